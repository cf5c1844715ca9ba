using System.Security.Cryptography.X509Certificates;

namespace Appliance.Certificates.Formats;

/// <summary>One uploaded file: its name (for messages only, never for format detection) and its bytes.</summary>
public sealed record ImportFile(string FileName, ReadOnlyMemory<byte> Content);

/// <summary>A key's type. <see cref="Ed25519"/> is only ever a certificate's public key: its private key is refused at
/// import (see <see cref="Appliance.Certificates.KeyTypeServing"/>), so such a certificate is kept but never served.</summary>
public enum KeyAlgorithm { Rsa, Ecdsa, Ed25519 }

/// <summary>Why an import was refused; the API maps every reason to 400 with the message.</summary>
public enum ImportFailureReason
{
    EmptyFile,
    UnrecognizedFormat,
    TruncatedOrCorrupt,
    PasswordRequired,
    WrongPassword,
    UnsupportedKeyType,
    KeyTooWeak,
    TooManyObjects,
    SignatureInvalid,
    KeyDoesNotMatch,
    /// <summary>The file is larger than <see cref="CertificateFileReader.MaxFileBytes"/>.</summary>
    FileTooLarge,
    /// <summary>The file's password-based encryption would cost more than <see cref="KeyDerivationBudget.MaxIterations"/>.</summary>
    TooMuchKeyDerivation,
}

/// <summary>An import refusal; <see cref="Exception.Message"/> names the file and tells the admin what to do. Never contains key material.</summary>
public sealed class CertificateImportException(ImportFailureReason reason, string fileName, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ImportFailureReason Reason { get; } = reason;
    public string FileName { get; } = fileName;
}

/// <summary>A private key in memory as unencrypted PKCS#8 DER. Dispose zeroes it.</summary>
public sealed class PrivateKeyMaterial : IDisposable
{
    public PrivateKeyMaterial(byte[] pkcs8, KeyAlgorithm algorithm, int keySize, byte[] subjectPublicKeyInfo)
    {
        Pkcs8 = pkcs8;
        Algorithm = algorithm;
        KeySize = keySize;
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
    }

    public byte[] Pkcs8 { get; }
    public KeyAlgorithm Algorithm { get; }
    /// <summary>RSA modulus bits, or the curve size (256, 384).</summary>
    public int KeySize { get; }
    /// <summary>DER SubjectPublicKeyInfo; equal bytes mean the same key pair (used to match keys to certificates).</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(Pkcs8);

    public override string ToString() => $"{Algorithm} {KeySize} private key"; // never the key itself
}

/// <summary>A certificate (DER) with its private key (PKCS#8 DER), for a TLS context; disposing zeroes the key.</summary>
public sealed class ServingIdentity(byte[] certificate, byte[] pkcs8) : IDisposable
{
    public byte[] Certificate { get; } = certificate;
    public byte[] Pkcs8 { get; } = pkcs8;
    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(Pkcs8);
    public override string ToString() => "TLS serving identity"; // never the key itself
}

/// <summary>Everything found in one file: certificates (DER, in file order) and private keys.</summary>
public sealed record ParsedFile(string FileName, IReadOnlyList<X509Certificate2> Certificates, IReadOnlyList<PrivateKeyMaterial> Keys);

/// <summary>Subject fields of a certificate request or self-signed certificate (the seed's "Subject Name").</summary>
public sealed record SubjectName(
    string? Country,
    string? State,
    string? Locality,
    string? Organization,
    string? OrganizationalUnit,
    string? CommonName);

/// <summary>A refused certificate request / self-signed certificate (bad country, bad SAN, ...); the message says what to fix.</summary>
public sealed class CertificateRequestException(string message) : Exception(message);

/// <summary>A refused export (passphrase too short, key not matching the certificate); the message says what to fix.</summary>
public sealed class CertificateExportException(string message) : Exception(message);
