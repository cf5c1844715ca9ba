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
}
