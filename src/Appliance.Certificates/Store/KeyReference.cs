namespace Appliance.Certificates.Store;

/// <summary>
/// How a create request names its key: a new key type (<see cref="Formats.KeyFactory.KeyTypes"/>),
/// <c>existing:&lt;certificate id&gt;</c> (the key of a stored certificate) or <c>existing:&lt;key id&gt;</c> (a stored key
/// without a certificate: imported alone, or made for a pending request; key ids start with "k"). The one spelling for
/// API, UI and store.
/// </summary>
public static class KeyReference
{
    public const string ExistingPrefix = "existing:";

    /// <summary>The reference to the key of the stored certificate <paramref name="certificateId"/>, or to the stored key with that key id.</summary>
    public static string Existing(string certificateId) => ExistingPrefix + certificateId;

    /// <summary>The pattern of a reference in the API's schema: a certificate id (hex) or a key id ("k" and hex).</summary>
    public const string ExistingPattern = ExistingPrefix + "k?[0-9a-f]+";

    /// <summary>Whether <paramref name="key"/> names a stored certificate's key, and which certificate.</summary>
    public static bool IsExisting(string key, out string certificateId)
    {
        certificateId = key.StartsWith(ExistingPrefix, StringComparison.Ordinal) ? key[ExistingPrefix.Length..] : "";
        return key.StartsWith(ExistingPrefix, StringComparison.Ordinal);
    }
}
