using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

/// <summary>Inputs afl-fuzz found (./build.sh fuzz certificate-file) that escaped the reader as a bug rather than a refusal.</summary>
public sealed class CertificateFileReaderFuzzRegressionTests
{
    private static CertificateImportException Refusal(string fileName, string hex)
    {
        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile(fileName, Convert.FromHexString(hex)), "fuzz"));
        // The reader's last-resort net keeps what it caught: a refusal here must be a decision, not a caught bug.
        Assert.Null(error.InnerException);
        return error;
    }

    [Fact]
    public void RefusesAnEncryptedKeyWhosePbes2SchemeIsNotAnObjectIdentifierAsMalformed()
    {
        // EncryptedPrivateKeyInfo with PBES2 whose encryptionScheme starts with an ObjectDescriptor (tag 07) where the
        // OID belongs: BouncyCastle's EncryptionScheme constructor threw InvalidCastException.
        var error = Refusal("fuzzed.der",
            "3081eb305606092a864886f70d01050d3049302806092a864886f71a01050c301b0408b9e5108d5183d380020101300c06082a864886f70d02090500301d07096086480165030401020410928d864d5b6472a13a6f94fafc58cb8104819044963196d8dda1aaf12894077a1ddbe5a289402667192c5d2c6194090020ce47b2d0a7e4c1ccf7be8049be2a21aeca5bed13eed6d2f91dfe9d61d3970a978c33f838c4d6a1d88b7fa6563276c69a8bc1e839050010b88bd29c397337e6ffbac153580e135d7ee689800eba37b40394c18a38915bb8a23f0bad37029351cf5092433fee79e2079b7bfb3c342adbaacd04");

        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.Equal("fuzzed.der: it holds a malformed password-encryption parameter block (RFC 8018, RFC 7292 Appendix C). The file is damaged or incomplete; export it again from its source and upload the new file.", error.Message);
    }

    [Fact]
    public void RefusesABeginLineWhoseDashesRunIntoTheEndLineAsCutOff()
    {
        // "-----BEGIN CERTIFICATE---------END CERTIFICATE-----": the END marker shares the BEGIN line's closing dashes,
        // and the block's body had a negative length (ArgumentOutOfRangeException from Substring).
        var error = Refusal("fuzzed.pem",
            "3081eb302806092d2d2d2d2d424547494e2043455254494649434154452d2d2d2d2d2d2d2d2d454e442043455254494649434154452d2d2d2d2d");

        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.Equal("fuzzed.pem: the \"CERTIFICATE\" block has no \"-----END CERTIFICATE-----\" line (the file seems cut off). The file is damaged or incomplete; export it again from its source and upload the new file.", error.Message);
    }

    [Fact]
    public void RefusesAPkcs12WhoseEncryptionAlgorithmHasNoParametersAsDamaged()
    {
        // A PKCS#12 whose encrypted bag names a PKCS#12 PBE scheme without its parameters: Pkcs12PbeParams.GetInstance(null)
        // answered null and the iteration count read threw NullReferenceException.
        var error = Refusal("fuzzed.p12",
            "3082039c0201033082036606092a864886f70d010701a0820357048203533082034f3082024606092a864886f70d010706a082023730820233020100"
            + "3082022c06092a864886f70d010701301b06192a864886f70d010c0103300d040848636125986a680402010180820200d2873a311afab4e6aaed042e"
            + "d8e942b50b243ad42fd30740eeb7867bfcfa1e1eb68da828055f3bfea8f77a1918f953f51ef3d60c8636acb1325340319868aeed3dabf71144dbe566"
            + "97512ddfeca2c2093c2347f1a9331e1c32a269ae14f7e036785a9307141a4b74fea5d9335d6b53fc2f5f6dbb746da1a334f34b28536296e6dcd2b6b9"
            + "a9367df1fe06b3cd750aa6861d4cde9557e54a9d12fd2231444a2ea60a26c84010345ff42601a605a71a49d01ccf14e056ddb0d6e25a9b59aa627434"
            + "78d98422ceed6a3a4c048850f5a3f2a9cef8386f447d6cc2af6bfb786142f7aaef43a937402237366b0f99001da837a3780f0a66f4c39298e07935ad"
            + "17c967d205b73e04a4fcf4b1049dbd8d71d36dd4c19a2ada98c7ff881a62ffdd2f48a21702289d81fbc1349282519508b1f8573d694d5fcf4fb7bd9c"
            + "059b522c85df1cef5972f4e2726d4de6e18b6a16483e809355d731cb697a81535e98e2915cc68429b4fcdb90611f545fedd231f65561ae2b4fdd784d"
            + "2b6b653b0efe0e8cd806ff13270aecdf666d67ab0a3ac906ed24df5e51ae269c6910ca7ad3918473e1338c229ad53f678ff119528bfdcdf10ce60a36"
            + "c1d7462e500b6833b43c1471d42268750aa29f87ccba275033b0117b418165f7255c9b37379ffd276467afc39e10fd5f7f9f0844f848c6f54f603da4"
            + "2d95b9aa793e040b250e281aa2ffa45bd7d948f23082010106092a864886f70d010701a081f30481f03081ed3081ea060b2a864886f70d01040a0102"
            + "a081b33081b0301b060a2a864886f70d010c0103300d0408535b5992cb59f88902010104819050441e18c5796ccfb6c27c59a90a3add817462492116"
            + "627a89f17f8332aefb78f0f2942f5e270e23c9e6f1134fcb5385a0a2f508215459b583ea5eb3fc0303c0e3aa723756e14457e80e7151881f707717e8"
            + "5e078da2d3831c8c136c62dabad6df290411a24302b8855c35e2256927f6654932f62f59c02d968cf4d2dc051be8a0359074dbec5fa45aed65f3dd1d"
            + "7ebf3125302306092a864886f70d0109153116041430b4f9540acc3fe1521802fa52eaa1c58b790fe2302d3021300906052b0e03021a050004148847"
            + "25efad49988f30ea94db6b32f4c7aab8ad43040898b1c65ab8034790");

        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith("fuzzed.p12: it holds a password-encryption algorithm without its parameters", error.Message);
    }
}
