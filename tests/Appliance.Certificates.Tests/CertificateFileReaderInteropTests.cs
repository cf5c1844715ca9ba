using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

/// <summary>
/// Files as other tools write them (issue 11's interop classes), made at test time by those tools: OpenSSL's
/// ecparam, OpenSSL 3, NSS pk12util, GnuTLS certtool and Java keytool PKCS#12 files, Ed25519 certificates.
/// </summary>
public sealed class CertificateFileReaderInteropTests : IDisposable
{
    // Latin-1, a Euro sign outside Latin-1 and CJK: UTF-8 and BMPString encodings differ in every byte length.
    private const string NonAsciiPassword = "Pässwörd-€-日本";

    private readonly string _directory = Directory.CreateTempSubdirectory("appliance-interop-").FullName;

    [Fact]
    public void ReadsAnEcKeyWithItsEcParametersBlockAsOpenSslEcparamWritesIt()
    {
        Run("openssl", "ecparam", "-genkey", "-name", "secp384r1", "-out", "ec.key");
        Run("openssl", "req", "-new", "-x509", "-key", "ec.key", "-subj", "/CN=ecparam.example.com", "-days", "30", "-out", "ec.crt");
        Assert.StartsWith("-----BEGIN EC PARAMETERS-----", File.ReadAllText(Path("ec.key")), StringComparison.Ordinal);

        var key = Assert.Single(Read("ec.key", null).Keys);
        Assert.Equal(KeyAlgorithm.Ecdsa, key.Algorithm);
        Assert.Equal(384, key.KeySize);

        byte[] both = [.. File.ReadAllBytes(Path("ec.crt")), .. File.ReadAllBytes(Path("ec.key"))];
        var parsed = CertificateFileReader.Read(new ImportFile("ec.pem", both), null);
        var certificate = Assert.Single(parsed.Certificates);
        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Assert.Single(parsed.Keys).SubjectPublicKeyInfo);
    }

    [Fact]
    public void RefusesAnEcParametersBlockAloneAsHoldingNoKey()
    {
        Run("openssl", "ecparam", "-name", "secp384r1", "-out", "params.pem");
        var error = Assert.Throws<CertificateImportException>(() => Read("params.pem", null));
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.Equal($"params.pem: the file holds only EC curve parameters (P-384), no private key; upload the file with the \"EC PRIVATE KEY\" block. Upload {ImportErrors.Formats}.", error.Message);
    }

    [Theory]
    [InlineData("openssl")]
    [InlineData("pk12util")]
    [InlineData("certtool")]
    public void ReadsAPkcs12WithANonAsciiPasswordAndRefusesTheWrongOne(string tool)
    {
        string file = MakePkcs12(tool, NonAsciiPassword);

        var parsed = Read(file, NonAsciiPassword);
        var certificate = Assert.Single(parsed.Certificates);
        Assert.Equal("CN=p12.example.com", certificate.Subject);
        Assert.Equal(certificate.PublicKey.ExportSubjectPublicKeyInfo(), Assert.Single(parsed.Keys).SubjectPublicKeyInfo);

        // The decomposed form (a + combining diaeresis) looks the same but is other bytes: refused, as OpenSSL does.
        foreach (string wrong in new[] { "Passwort", "Pässwörd-€-日", "Pa\u0308sswo\u0308rd-€-日本" })
        {
            var error = Record.Exception(() => Read(file, wrong)) as CertificateImportException;
            Assert.True(error is { Reason: ImportFailureReason.WrongPassword }, $"the password '{wrong}' was not refused as wrong: {error?.Message}");
            Assert.Equal($"{file}: the password is wrong for the PKCS#12 file. Check the password (it is case-sensitive) and upload the file again.", error!.Message);
        }
    }

    [Fact]
    public void ReadsAnEncryptedPkcs8KeyWithANonAsciiPassword()
    {
        Run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", $"pass:{NonAsciiPassword}", "-out", "enc.key");
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", File.ReadAllText(Path("enc.key")), StringComparison.Ordinal);

        Assert.Equal(KeyAlgorithm.Ecdsa, Assert.Single(Read("enc.key", NonAsciiPassword).Keys).Algorithm);
        Assert.Equal(ImportFailureReason.WrongPassword, Assert.Throws<CertificateImportException>(() => Read("enc.key", "Pässwörd")).Reason);
    }

    [Fact]
    public void ReadsAJavaKeytoolPkcs12()
    {
        // keytool refuses to write a non-ASCII password ("Password is not ASCII", OpenJDK 17 PBES2), so its file has an ASCII one.
        Run("keytool", "-genkeypair", "-alias", "appliance", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=keytool.example.com",
            "-validity", "30", "-storetype", "PKCS12", "-keystore", "keytool.p12", "-storepass", "keytool-secret", "-keypass", "keytool-secret");

        var parsed = Read("keytool.p12", "keytool-secret");
        var certificate = Assert.Single(parsed.Certificates);
        Assert.Equal("CN=keytool.example.com", certificate.Subject);
        var key = Assert.Single(parsed.Keys);
        Assert.Equal((KeyAlgorithm.Ecdsa, 256), (key.Algorithm, key.KeySize));

        var error = Assert.Throws<CertificateImportException>(() => Read("keytool.p12", "keytool-Secret"));
        Assert.Equal(ImportFailureReason.WrongPassword, error.Reason);
    }

    [Theory]
    [InlineData("openssl")]
    [InlineData("certtool")]
    public void ReportsAnEd25519CertificateAsEd25519Of256Bits(string tool)
    {
        string file = MakeEd25519Certificate(tool);

        var certificate = Assert.Single(Read(file, null).Certificates);
        var facts = CertificateFacts.Read(certificate);
        Assert.Equal(KeyAlgorithm.Ed25519, facts.KeyAlgorithm);
        Assert.Equal(256, facts.KeySize);
        Assert.Equal("ed25519.example.com", facts.CommonName);
    }

    [Fact]
    public void RefusesAnEd25519CertificateWithItsKeySayingItCannotBeServed()
    {
        string file = MakeEd25519Certificate("openssl");
        byte[] both = [.. File.ReadAllBytes(Path(file)), .. File.ReadAllBytes(Path("ed.key"))];

        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("ed.pem", both), null));
        Assert.Equal(ImportFailureReason.UnsupportedKeyType, error.Reason);
        Assert.Equal($"ed.pem: the private key is an Ed25519 key, which is not supported; {KeyNormalizer.Accepted}. Create a key of an accepted type and have the certificate issued for it.", error.Message);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Path(string name) => System.IO.Path.Combine(_directory, name);

    private string Run(string tool, params string[] arguments) => InteropTools.Run(_directory, tool, arguments);

    private ParsedFile Read(string name, string? password) =>
        CertificateFileReader.Read(new ImportFile(name, File.ReadAllBytes(Path(name))), password);

    private string MakeEd25519Certificate(string tool)
    {
        if (tool == "openssl")
        {
            Run("openssl", "genpkey", "-algorithm", "ed25519", "-out", "ed.key");
            Run("openssl", "req", "-new", "-x509", "-key", "ed.key", "-subj", "/CN=ed25519.example.com", "-days", "30", "-out", "ed-openssl.crt");
            return "ed-openssl.crt";
        }

        Run("certtool", "--generate-privkey", "--key-type", "ed25519", "--outfile", "ed-gnutls.key");
        File.WriteAllText(Path("ed.tmpl"), "cn = ed25519.example.com\ndns_name = ed25519.example.com\nexpiration_days = 30\ntls_www_server\n");
        Run("certtool", "--generate-self-signed", "--load-privkey", "ed-gnutls.key", "--template", "ed.tmpl", "--outfile", "ed-certtool.crt");
        return "ed-certtool.crt";
    }

    // A self-signed RSA certificate and its key, exported by the named tool with the password.
    private string MakePkcs12(string tool, string password)
    {
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "p12.key", "-subj", "/CN=p12.example.com", "-days", "30", "-out", "p12.crt");
        string file = $"{tool}.p12";
        switch (tool)
        {
            case "openssl":
                // OpenSSL 3's default: PBES2/PBKDF2 with AES-256 (password as UTF-8), MAC over SHA-256 (password as BMPString).
                Run("openssl", "pkcs12", "-export", "-in", "p12.crt", "-inkey", "p12.key", "-name", "p12", "-passout", $"pass:{password}", "-out", file);
                break;
            case "pk12util":
                Directory.CreateDirectory(Path("nssdb"));
                Run("certutil", "-N", "-d", "sql:nssdb", "--empty-password");
                Run("openssl", "pkcs12", "-export", "-in", "p12.crt", "-inkey", "p12.key", "-name", "p12", "-passout", "pass:transfer", "-out", "transfer.p12");
                Run("pk12util", "-i", "transfer.p12", "-d", "sql:nssdb", "-W", "transfer");
                Run("pk12util", "-o", file, "-n", "p12", "-d", "sql:nssdb", "-W", password);
                break;
            case "certtool":
                Run("certtool", "--to-p12", "--load-certificate", "p12.crt", "--load-privkey", "p12.key", "--p12-name", "p12", "--password", password, "--outder", "--outfile", file);
                break;
        }

        return file;
    }
}
