namespace Appliance.Certificates.Store;

/// <summary>How stored rows are named: the same certificate or key is always the same entry.</summary>
internal static class StoreIds
{
    /// <summary>The first 16 hex digits of the certificate's SHA-256 fingerprint.</summary>
    public static string Certificate(CertificateFacts facts) => facts.Sha256Fingerprint[..16];

    /// <summary>"k" and the first 16 hex digits of the SHA-256 of the key's SubjectPublicKeyInfo.</summary>
    public static string Key(string publicKeySha256) => "k" + publicKeySha256[..16];
}
