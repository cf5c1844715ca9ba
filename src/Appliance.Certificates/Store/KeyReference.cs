namespace Appliance.Certificates.Store;

/// <summary>
/// How a create request names its key: a new key type (<see cref="Formats.KeyFactory.KeyTypes"/>) or
/// <c>existing:&lt;certificate id&gt;</c>, the key of a stored certificate. The one spelling for API, UI and store.
/// </summary>
public static class KeyReference
{
    public const string ExistingPrefix = "existing:";

    /// <summary>The reference to the key of the stored certificate <paramref name="certificateId"/>.</summary>
    public static string Existing(string certificateId) => ExistingPrefix + certificateId;

    /// <summary>Whether <paramref name="key"/> names a stored certificate's key, and which certificate.</summary>
    public static bool IsExisting(string key, out string certificateId)
    {
        certificateId = key.StartsWith(ExistingPrefix, StringComparison.Ordinal) ? key[ExistingPrefix.Length..] : "";
        return key.StartsWith(ExistingPrefix, StringComparison.Ordinal);
    }
}
