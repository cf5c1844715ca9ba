namespace Appliance.Certificates.Store;

/// <summary>The friendly name rules: what the admin may enter, and the name a certificate gets when none was entered.</summary>
internal static class FriendlyNames
{
    public const int MaxLength = 64;

    /// <summary>The entered name, trimmed; refused in words when empty, too long or with control characters.</summary>
    public static string Validate(string? friendlyName)
    {
        var name = friendlyName?.Trim() ?? "";
        if (name.Length == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "Enter a certificate friendly name, for example the primary DNS name or the current month and year.");
        if (name.Length > MaxLength)
            throw new CertificateStoreException(StoreFailure.Invalid, $"The friendly name is {name.Length} characters long; use at most {MaxLength}.");
        if (name.Any(char.IsControl))
            throw new CertificateStoreException(StoreFailure.Invalid, "The friendly name contains control characters; use letters, digits, spaces and punctuation only.");
        return name;
    }

    /// <summary>The common name, else the first subject alternative name, else the subject, without control characters.</summary>
    public static string Default(CertificateFacts facts)
    {
        var name = facts.CommonName ?? facts.SubjectAlternativeNames.FirstOrDefault() ?? facts.Subject;
        name = new string(name.Where(ch => !char.IsControl(ch)).ToArray()).Trim();
        if (name.Length == 0) name = "Certificate " + facts.Sha256Fingerprint[..8];
        return name.Length > MaxLength ? name[..MaxLength] : name;
    }

    /// <summary><paramref name="name"/>, or with " (2)", " (3)", ... when another certificate has it (case-insensitively).</summary>
    public static string Unique(string name, IReadOnlyList<StoredCertificate> existing)
    {
        if (!existing.Any(c => string.Equals(c.FriendlyName, name, StringComparison.OrdinalIgnoreCase))) return name;
        for (var i = 2; ; i++)
        {
            var candidate = $"{name} ({i})";
            if (!existing.Any(c => string.Equals(c.FriendlyName, candidate, StringComparison.OrdinalIgnoreCase))) return candidate;
        }
    }
}
