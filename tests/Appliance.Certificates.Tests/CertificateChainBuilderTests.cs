using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

public sealed class CertificateChainBuilderTests(CertificateFiles openssl)
{
    [Fact]
    public void BuildsLeafIntermediateRootInOrderAndCallsItComplete()
    {
        var all = CertificateFileReader.Read(openssl.Import("p384.p7b.der"), null).Certificates;
        var leaf = all.Single(c => c.Subject.Contains("Leaf", StringComparison.Ordinal));
        var (chain, complete) = CertificateChainBuilder.Build(leaf, all.Reverse());
        Assert.True(complete);
        Assert.Equal(["Leaf", "Intermediate", "Root"], chain.Select(c => c.Subject.Contains("Leaf", StringComparison.Ordinal) ? "Leaf" : c.Subject.Contains("Intermediate", StringComparison.Ordinal) ? "Intermediate" : "Root"));
    }

    [Fact]
    public void IsIncompleteWhenTheRootIsMissing()
    {
        var all = CertificateFileReader.Read(openssl.Import("p384.p7b.der"), null).Certificates;
        var leaf = all[0];
        var pool = all.Where(c => !c.Subject.Contains("Root", StringComparison.Ordinal));
        var (chain, complete) = CertificateChainBuilder.Build(leaf, pool);
        Assert.False(complete);
        Assert.Equal(2, chain.Count);
    }

    [Fact]
    public void RefusesAnIssuerWhoseNameMatchesButWhoseKeyDidNotSign()
    {
        var leaf = CertificateFileReader.Read(openssl.Import("p256.crt"), null).Certificates[0];
        var intermediate = CertificateFileReader.Read(openssl.Import("chain.pem"), null).Certificates[0];
        Assert.True(CertificateChainBuilder.IsIssuedBy(leaf, intermediate));

        // Same subject, other key: an impostor intermediate.
        string impostor = openssl.Path("impostor.crt");
        openssl.Run("req", "-x509", "-key", openssl.Path("p384.key"), "-subj", "/C=US/O=Test PKI/CN=Test Intermediate CA", "-days", "10", "-out", impostor);
        var fake = CertificateFileReader.Read(openssl.Import("impostor.crt"), null).Certificates[0];
        Assert.False(CertificateChainBuilder.IsIssuedBy(leaf, fake));
        Assert.False(CertificateChainBuilder.Build(leaf, [fake]).Complete);
    }

    [Fact]
    public void StopsOnIssuerCycles()
    {
        // Two CAs that cross-sign each other form a loop; the builder must end.
        string a = openssl.Path("cycle-a"), b = openssl.Path("cycle-b");
        openssl.Run("req", "-new", "-key", openssl.Path("rsa2048.key"), "-subj", "/CN=Cycle A", "-out", a + ".csr");
        openssl.Run("req", "-new", "-key", openssl.Path("rsa3072.key"), "-subj", "/CN=Cycle B", "-out", b + ".csr");
        openssl.Run("x509", "-req", "-in", a + ".csr", "-signkey", openssl.Path("rsa2048.key"), "-days", "10", "-out", a + "-self.crt");
        openssl.Run("x509", "-req", "-in", b + ".csr", "-CA", a + "-self.crt", "-CAkey", openssl.Path("rsa2048.key"), "-set_serial", "5", "-days", "10", "-out", b + ".crt");
        openssl.Run("x509", "-req", "-in", b + ".csr", "-signkey", openssl.Path("rsa3072.key"), "-days", "10", "-out", b + "-self.crt");
        openssl.Run("x509", "-req", "-in", a + ".csr", "-CA", b + "-self.crt", "-CAkey", openssl.Path("rsa3072.key"), "-set_serial", "6", "-days", "10", "-out", a + ".crt");
        var aByB = CertificateFileReader.Read(openssl.Import("cycle-a.crt"), null).Certificates[0];
        var bByA = CertificateFileReader.Read(openssl.Import("cycle-b.crt"), null).Certificates[0];
        var (chain, complete) = CertificateChainBuilder.Build(aByB, [bByA]);
        Assert.False(complete);
        Assert.Equal(2, chain.Count);
    }
}
