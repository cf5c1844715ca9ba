using Appliance.Certificates.Formats;

namespace Appliance.Certificates;

/// <summary>
/// Which key types the appliance serves TLS with, and the words for the ones it does not. libssl itself could answer
/// with an Ed25519 certificate (TLS 1.3, RFC 8446 4.2.3), but browsers offer no Ed25519 signature for server
/// certificates (Chromium, Firefox, Safari), and the key pipeline (vault, PKCS#12 export, requests) holds RSA and
/// ECDSA keys only; so an Ed25519 private key is refused at import and its certificate is kept as a certificate only.
/// </summary>
public static class KeyTypeServing
{
    /// <summary>RFC 8410 3: id-Ed25519.</summary>
    internal const string Ed25519Oid = "1.3.101.112";

    /// <summary>The key type as the UI and the API name it ("RSA", "ECDSA", "Ed25519"); null for an unknown type.</summary>
    public static string? Name(KeyAlgorithm? algorithm) => algorithm switch
    {
        KeyAlgorithm.Rsa => "RSA",
        KeyAlgorithm.Ecdsa => "ECDSA",
        KeyAlgorithm.Ed25519 => "Ed25519",
        _ => null,
    };

    /// <summary>Why the certificate <paramref name="friendlyName"/> cannot be served for its key type, as whole sentences
    /// with what to do; null for RSA and ECDSA (those serve once their private key is on the appliance).</summary>
    public static string? Refusal(string friendlyName, KeyAlgorithm? algorithm) => algorithm switch
    {
        KeyAlgorithm.Rsa or KeyAlgorithm.Ecdsa => null,
        KeyAlgorithm.Ed25519 => $"'{friendlyName}' has an Ed25519 key, which browsers do not accept from TLS servers, so the appliance cannot serve it ({KeyNormalizer.Accepted}). {Next}",
        _ => $"'{friendlyName}' has a key of a type the appliance cannot serve ({KeyNormalizer.Accepted}). {Next}",
    };

    private const string Next = "Have a certificate issued for an RSA or ECDSA key and use that one; this one can stay as a certificate for reference.";
}
