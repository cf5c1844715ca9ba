using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Formats;

// Contract placeholders: the formats work replaces every body below (and may move the classes to their own files).

/// <summary>Reads one uploaded file, format found from the content.</summary>
public static class CertificateFileReader
{
    /// <summary>Maximum certificates accepted in one file (a PEM with thousands is refused).</summary>
    public const int MaxCertificatesPerFile = 100;

    /// <summary>Parses certificates and keys; throws <see cref="CertificateImportException"/> with a clear reason.</summary>
    public static ParsedFile Read(ImportFile file, string? password) => throw new NotImplementedException();
}

/// <summary>Chain building and signature checks over a pool of certificates.</summary>
public static class CertificateChainBuilder
{
    /// <summary>The chain from <paramref name="leaf"/> (first) up through issuers found in <paramref name="pool"/>;
    /// complete when it ends in a self-signed certificate whose signature verifies.</summary>
    public static (IReadOnlyList<X509Certificate2> Chain, bool Complete) Build(X509Certificate2 leaf, IEnumerable<X509Certificate2> pool)
        => throw new NotImplementedException();

    /// <summary>True when <paramref name="issuer"/>'s subject is <paramref name="certificate"/>'s issuer and its key verifies the signature.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer) => throw new NotImplementedException();
}

public static class CertificateExporter
{
    public static string ToPem(IEnumerable<X509Certificate2> certificates) => throw new NotImplementedException();
    /// <summary>Encrypted PKCS#8 PEM (PBES2, AES-256-CBC, PBKDF2-SHA256).</summary>
    public static string ToEncryptedPkcs8Pem(PrivateKeyMaterial key, string passphrase) => throw new NotImplementedException();
    /// <summary>PKCS#12 with AES-256/PBKDF2 protection and a SHA-256 MAC; key optional.</summary>
    public static byte[] ToPkcs12(X509Certificate2 certificate, PrivateKeyMaterial? key, IEnumerable<X509Certificate2> chain, string passphrase, string friendlyName)
        => throw new NotImplementedException();
    /// <summary>A degenerate PKCS#7 SignedData (DER) holding only the certificates.</summary>
    public static byte[] ToPkcs7(IEnumerable<X509Certificate2> certificates) => throw new NotImplementedException();
}

public static class KeyFactory
{
    public static readonly IReadOnlyList<string> KeyTypes = ["rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384"];
    /// <summary>A new key for "rsa-2048" ... "ecdsa-p384"; throws CertificateRequestException on an unknown type.</summary>
    public static PrivateKeyMaterial Generate(string keyType) => throw new NotImplementedException();
    /// <summary>Describes a PKCS#8 DER key (algorithm, size, SPKI); used when keys come back from the vault.</summary>
    public static PrivateKeyMaterial FromPkcs8(byte[] pkcs8) => throw new NotImplementedException();
}

public static class CertificateRequestFactory
{
    /// <summary>Validated SAN list in request order: the common name first when it is a DNS name and missing,
    /// DNS names lower-cased A-labels, one-label wildcards, IPv4/IPv6 literals. Throws CertificateRequestException.</summary>
    public static IReadOnlyList<string> NormalizeSubjectAlternativeNames(SubjectName subject, IEnumerable<string> names)
        => throw new NotImplementedException();
    /// <summary>Throws CertificateRequestException when a field is invalid (country not ISO 3166-1 alpha-2, empty subject, ...).</summary>
    public static void ValidateSubject(SubjectName subject) => throw new NotImplementedException();
    /// <summary>PKCS#10 request, DER, signed with <paramref name="key"/> (SHA-256 for RSA and P-256, SHA-384 for P-384).</summary>
    public static byte[] CreateRequest(SubjectName subject, IReadOnlyList<string> subjectAlternativeNames, PrivateKeyMaterial key)
        => throw new NotImplementedException();
    /// <summary>Self-signed certificate, DER, server-auth EKU, random positive serial.</summary>
    public static X509Certificate2 CreateSelfSigned(SubjectName subject, IReadOnlyList<string> subjectAlternativeNames, PrivateKeyMaterial key, DateTimeOffset notBefore, DateTimeOffset notAfter)
        => throw new NotImplementedException();
    /// <summary>The SubjectPublicKeyInfo DER of a PKCS#10 request (to match an arriving certificate).</summary>
    public static byte[] RequestPublicKeyInfo(byte[] requestDer) => throw new NotImplementedException();
}
