using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

/// <summary>
/// Files as other tools write them (issue 11's interop classes), made at test time by those tools: OpenSSL's
/// ecparam, OpenSSL 3, NSS pk12util, GnuTLS certtool and Java keytool PKCS#12 files, Ed25519 certificates.
/// </summary>
public sealed class CertificateFileReaderInteropTests : IDisposable
{
    private const string NonAsciiPassword = InteropFiles.NonAsciiPassword;

    private readonly InteropFiles _files = new(Directory.CreateTempSubdirectory("appliance-interop-").FullName);

    public static TheoryData<string> Pkcs12Tools => new(InteropFiles.Pkcs12Tools);

    [Fact]
    public void ReadsAnEcKeyWithItsEcParametersBlockAsOpenSslEcparamWritesIt()
    {
        var (keyFile, certificateFile) = _files.EcparamKey("ec", "ecparam.example.com");
        Assert.StartsWith("-----BEGIN EC PARAMETERS-----", File.ReadAllText(_files.Path(keyFile)), StringComparison.Ordinal);

        var key = Assert.Single(Read(keyFile, null).Keys);
        Assert.Equal((KeyAlgorithm.Ecdsa, 384), (key.Algorithm, key.KeySize));

        var parsed = CertificateFileReader.Read(new ImportFile("ec.pem", (byte[])[.. _files.Bytes(certificateFile), .. _files.Bytes(keyFile)]), null);
        var certificate = Assert.Single(parsed.Certificates);
        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Assert.Single(parsed.Keys).SubjectPublicKeyInfo);
    }

    [Fact]
    public void RefusesAnEcParametersBlockAloneAsHoldingNoKey()
    {
        _files.Run("openssl", "ecparam", "-name", "secp384r1", "-out", "params.pem");
        var error = Assert.Throws<CertificateImportException>(() => Read("params.pem", null));
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.Equal($"params.pem: the file holds only EC curve parameters (P-384), no private key; upload the file with the \"EC PRIVATE KEY\" block. Upload {ImportErrors.Formats}.", error.Message);
    }

    [Theory]
    [MemberData(nameof(Pkcs12Tools))]
    public void ReadsAPkcs12WithItsPasswordAndRefusesTheWrongOne(string tool)
    {
        var (file, password) = _files.Pkcs12(tool, tool, "p12.example.com");

        var parsed = Read(file, password);
        var certificate = Assert.Single(parsed.Certificates);
        Assert.Equal("CN=p12.example.com", certificate.Subject);
        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Assert.Single(parsed.Keys).SubjectPublicKeyInfo);

        // A prefix, another word, and the decomposed form (a + combining diaeresis: looks the same, other bytes, and
        // OpenSSL refuses it too) or, for keytool's ASCII password, the same in capitals.
        string lookalike = password.Contains('ä', StringComparison.Ordinal) ? password.Replace("ä", "a\u0308", StringComparison.Ordinal) : password.ToUpperInvariant();
        foreach (string wrong in new[] { password[..^1], "Passwort", lookalike })
        {
            var error = Record.Exception(() => Read(file, wrong)) as CertificateImportException;
            Assert.True(error is { Reason: ImportFailureReason.WrongPassword }, $"the password '{wrong}' was not refused as wrong: {error?.Message}");
            Assert.Equal($"{file}: the password is wrong for the PKCS#12 file. Check the password (it is case-sensitive) and upload the file again.", error!.Message);
        }
    }

    [Fact]
    public void ReadsAnEncryptedPkcs8KeyWithANonAsciiPassword()
    {
        _files.Run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", $"pass:{NonAsciiPassword}", "-out", "enc.key");
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(_files.Path("enc.key")), StringComparison.Ordinal);

        Assert.Equal(KeyAlgorithm.Ecdsa, Assert.Single(Read("enc.key", NonAsciiPassword).Keys).Algorithm);
        Assert.Equal(ImportFailureReason.WrongPassword, Assert.Throws<CertificateImportException>(() => Read("enc.key", "Pässwörd")).Reason);
    }

    [Theory]
    [InlineData("openssl")]
    [InlineData("certtool")]
    public void ReportsAnEd25519CertificateAsEd25519Of256Bits(string tool)
    {
        string file = _files.Ed25519Certificate(tool, "ed", "ed25519.example.com");

        var facts = CertificateFacts.Read(Assert.Single(Read(file, null).Certificates));
        Assert.Equal((KeyAlgorithm.Ed25519, 256), (facts.KeyAlgorithm, facts.KeySize));
        Assert.Equal("ed25519.example.com", facts.CommonName);
        Assert.Equal("Ed25519", KeyTypeServing.Name(facts.KeyAlgorithm));
        Assert.Equal(
            "'ed' has an Ed25519 key, which browsers do not accept from TLS servers, so the appliance cannot serve it (" + KeyNormalizer.Accepted + "). Have a certificate issued for an RSA or ECDSA key and use that one; this one can stay as a certificate for reference.",
            KeyTypeServing.Refusal("ed", facts.KeyAlgorithm));
    }

    [Fact]
    public void RefusesAnEd25519CertificateWithItsKeySayingTheKeyTypeIsNotSupported()
    {
        string file = _files.Ed25519Certificate("openssl", "ed", "ed25519.example.com");

        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("ed.pem", (byte[])[.. _files.Bytes(file), .. _files.Bytes("ed.key")]), null));
        Assert.Equal(ImportFailureReason.UnsupportedKeyType, error.Reason);
        Assert.Equal($"ed.pem: the private key is an Ed25519 key, which is not supported; {KeyNormalizer.Accepted}. Create a key of an accepted type and have the certificate issued for it.", error.Message);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_files.Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private ParsedFile Read(string name, string? password) =>
        CertificateFileReader.Read(new ImportFile(name, _files.Bytes(name)), password);
}
