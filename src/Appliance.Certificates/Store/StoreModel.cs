using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Store;

/// <summary>One row of the certificates table, with what is derived from the whole store (key, chain, default, bindings).</summary>
public sealed record StoredCertificate(
    string Id,
    string FriendlyName,
    CertificateFacts Facts,
    ReadOnlyMemory<byte> Der,
    Lazy<X509Certificate2> ParsedCertificate,
    string? KeyId,
    bool IsDefault,
    bool IsFactory,
    IReadOnlyList<string> Chain,
    bool ChainComplete,
    IReadOnlyList<string> BoundAddresses,
    CertificateSource Source)
{
    /// <summary>Shared by every view of the same certificate, so it is parsed at most once per process.</summary>
    internal Lazy<X509Certificate2> ParsedCertificate { get; init; } = ParsedCertificate;

    /// <summary>The X.509 certificate, parsed from <see cref="Der"/> on first use: loading the store parses nothing.</summary>
    public X509Certificate2 Certificate => ParsedCertificate.Value;

    public bool HasPrivateKey => KeyId is not null;

    /// <summary>The seed's text, shown beneath a certificate whose chain does not end in a self-signed certificate.</summary>
    public const string IncompleteChainWarning =
        "The certificate chain appears to be missing one or more certificate authorities and does not appear to terminate in a self-signed certificate";

    public string? ChainWarning => ChainComplete ? null : IncompleteChainWarning;
}

/// <summary>A private key in the vault: which certificate it belongs to, or null while it waits for it.</summary>
public sealed record StoredKey(string Id, KeyAlgorithm Algorithm, int KeySize, string? CertificateId);

/// <summary>A certificate request (CSR) kept for the CA and for later renewals.</summary>
public sealed record StoredRequest(
    string Id,
    string FriendlyName,
    SubjectName Subject,
    IReadOnlyList<string> SubjectAlternativeNames,
    string KeyId,
    KeyAlgorithm KeyAlgorithm,
    int KeySize,
    DateTimeOffset CreatedAt,
    string RequestData,
    string? CertificateId)
{
    public bool IsIssued => CertificateId is not null;
}

/// <summary>What one import stored; <see cref="Warnings"/> also says of each certificate whose key type cannot be served that it cannot.</summary>
public sealed record ImportResult(
    IReadOnlyList<StoredCertificate> Certificates,
    IReadOnlyList<StoredKey> Keys,
    IReadOnlyList<string> Warnings)
{
    public IReadOnlyList<string> Warnings { get; init; } =
        [.. Warnings, .. Certificates.Select(c => KeyTypeServing.Refusal(c.FriendlyName, c.Facts.KeyAlgorithm)).OfType<string>()];
}

/// <summary>What to create: a certificate request, or with <see cref="SelfSigned"/> a self-signed certificate.</summary>
public sealed record CreateCertificateSpec(
    string FriendlyName,
    string Key,
    SubjectName Subject,
    IReadOnlyList<string> SubjectAlternativeNames,
    bool SelfSigned);

public enum ExportFormat { Pem, Pkcs12, Pkcs7 }

/// <summary>
/// What to export. <paramref name="UnencryptedPrivateKey"/> is the admin's explicit confirmation that the private key
/// leaves in clear (PEM only, no passphrase): the seed allows it and "strongly recommends" a passphrase, so it is never
/// the default and never implied by an empty passphrase.
/// </summary>
public sealed record ExportSpec(
    IReadOnlyList<string> Ids,
    bool Certificate,
    bool PrivateKey,
    bool Chain,
    string? Passphrase,
    ExportFormat Format,
    bool UnencryptedPrivateKey = false);

public sealed record ExportedFile(string FileName, string ContentType, byte[] Content);

public enum StoreFailure { NotFound, Invalid, InUse, Conflict, KeyUnavailable }

/// <summary>A refused store operation; the message says what failed and what to do.</summary>
public sealed class CertificateStoreException(StoreFailure reason, string message) : Exception(message)
{
    public StoreFailure Reason { get; } = reason;
}

/// <summary>The certificate assigned to a local address (canonical form), or null: the address follows the other rules.</summary>
public sealed record CertificateAssignment(string Address, string? CertificateId);
