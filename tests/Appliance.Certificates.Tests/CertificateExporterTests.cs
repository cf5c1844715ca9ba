using System.Text;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

public sealed class CertificateExporterTests(CertificateFiles openssl)
{
    private const string Passphrase = "export-pass-1";

    [Fact]
    public void WritesPemThatReadsBackInOrder()
    {
        var chain = CertificateFileReader.Read(openssl.Import("p256.p7b.der"), null).Certificates;
        string pem = CertificateExporter.ToPem(chain);
        var back = CertificateFileReader.Read(new ImportFile("x.pem", Encoding.ASCII.GetBytes(pem)), null).Certificates;
        Assert.Equal(chain.Select(c => c.Thumbprint), back.Select(c => c.Thumbprint));
    }

    [Theory]
    [InlineData("rsa2048")]
    [InlineData("p384")]
    public void WritesEncryptedPkcs8ThatOpenSslOpensWithThePassphrase(string name)
    {
        using var key = Assert.Single(CertificateFileReader.Read(openssl.Import($"{name}.key"), null).Keys);
        string pem = CertificateExporter.ToEncryptedPkcs8Pem(key, Passphrase);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem, StringComparison.Ordinal);
        string file = openssl.Path($"export-{name}.pk8.pem");
        File.WriteAllText(file, pem);
        string text = openssl.Run("pkey", "-in", file, "-passin", $"pass:{Passphrase}", "-pubout");
        Assert.Contains("BEGIN PUBLIC KEY", text, StringComparison.Ordinal);
        string info = openssl.Run("asn1parse", "-in", file);
        Assert.Contains("aes-256-cbc", info, StringComparison.Ordinal);
        Assert.Contains("hmacWithSHA256", info, StringComparison.Ordinal);
        using var back = Assert.Single(CertificateFileReader.Read(new ImportFile("back.pem", Encoding.ASCII.GetBytes(pem)), Passphrase).Keys);
        Assert.Equal(key.SubjectPublicKeyInfo, back.SubjectPublicKeyInfo);
    }

    [Fact]
    public void WritesPkcs12ThatOpenSslOpensWithItsDefaultProvider()
    {
        var parsed = CertificateFileReader.Read(openssl.Import("rsa3072.aes.p12"), CertificateFiles.Password);
        var leaf = parsed.Certificates.Single(c => c.Subject.Contains("Leaf", StringComparison.Ordinal));
        var chain = parsed.Certificates.Where(c => c != leaf).ToList();
        byte[] pfx = CertificateExporter.ToPkcs12(leaf, parsed.Keys[0], chain, Passphrase, "My Site");
        string file = openssl.Path("export.p12");
        File.WriteAllBytes(file, pfx);

        string output = openssl.Run("pkcs12", "-in", file, "-passin", $"pass:{Passphrase}", "-nodes");
        Assert.Equal(3, CountOf(output, "BEGIN CERTIFICATE"));
        Assert.Equal(1, CountOf(output, "BEGIN PRIVATE KEY"));
        Assert.Contains("friendlyName: My Site", output, StringComparison.Ordinal);
        string info = openssl.Run("pkcs12", "-in", file, "-passin", $"pass:{Passphrase}", "-info", "-noout");
        Assert.Contains("MAC: sha256", info, StringComparison.Ordinal);
        Assert.Contains("AES-256-CBC", info, StringComparison.Ordinal);

        var back = CertificateFileReader.Read(new ImportFile("back.p12", pfx), Passphrase);
        Assert.Equal(3, back.Certificates.Count);
        Assert.Equal(parsed.Keys[0].SubjectPublicKeyInfo, Assert.Single(back.Keys).SubjectPublicKeyInfo);
        Assert.Equal(ImportFailureReason.WrongPassword, Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("back.p12", pfx), "wrong-pass")).Reason);
    }

    [Fact]
    public void WritesPkcs12WithoutAKey()
    {
        var leaf = Assert.Single(CertificateFileReader.Read(openssl.Import("p256.crt"), null).Certificates);
        byte[] pfx = CertificateExporter.ToPkcs12(leaf, null, [], Passphrase, "cert only");
        string file = openssl.Path("export-nokey.p12");
        File.WriteAllBytes(file, pfx);
        string output = openssl.Run("pkcs12", "-in", file, "-passin", $"pass:{Passphrase}", "-nodes");
        Assert.Equal(1, CountOf(output, "BEGIN CERTIFICATE"));
        Assert.Equal(0, CountOf(output, "PRIVATE KEY"));
    }

    [Fact]
    public void RefusesAShortPassphraseAndAForeignKey()
    {
        var parsed = CertificateFileReader.Read(openssl.Import("p256.bundle.pem"), null);
        var error = Assert.Throws<CertificateExportException>(() => CertificateExporter.ToEncryptedPkcs8Pem(parsed.Keys[0], "short"));
        Assert.Equal("The passphrase has 5 characters; at least 8 are required to export a private key. Enter a longer passphrase.", error.Message);
        using var other = KeyFactory.Generate("ecdsa-p256");
        Assert.Throws<CertificateExportException>(() => CertificateExporter.ToPkcs12(parsed.Certificates[0], other, [], Passphrase, "x"));
    }

    [Fact]
    public void WritesPkcs7ThatOpenSslLists()
    {
        var chain = CertificateFileReader.Read(openssl.Import("rsa2048.bundle.pem"), null).Certificates;
        byte[] p7 = CertificateExporter.ToPkcs7(chain);
        string file = openssl.Path("export.p7b");
        File.WriteAllBytes(file, p7);
        string output = openssl.Run("pkcs7", "-inform", "DER", "-in", file, "-print_certs");
        Assert.Equal(3, CountOf(output, "BEGIN CERTIFICATE"));
        var back = CertificateFileReader.Read(new ImportFile("back.p7b", p7), null).Certificates;
        Assert.Equal(chain.Select(c => c.Thumbprint), back.Select(c => c.Thumbprint));
    }

    private static int CountOf(string text, string what) =>
        (text.Length - text.Replace(what, string.Empty, StringComparison.Ordinal).Length) / what.Length;
}
