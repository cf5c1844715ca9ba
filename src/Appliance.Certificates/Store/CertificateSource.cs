namespace Appliance.Certificates.Store;

/// <summary>Where a stored certificate came from; stored and shown in the API as the strings of <see cref="CertificateSources"/>.</summary>
public enum CertificateSource { Imported, SelfSigned, Factory, Acme }

/// <summary>The stored (and API) spelling of each <see cref="CertificateSource"/>; existing databases hold these strings.</summary>
public static class CertificateSources
{
    public static string ToText(this CertificateSource source) => source switch
    {
        CertificateSource.Imported => "imported",
        CertificateSource.SelfSigned => "selfSigned",
        CertificateSource.Factory => "factory",
        CertificateSource.Acme => "acme",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "Unknown certificate source."),
    };

    /// <summary>Every source's text, in enum order (the API schema's list).</summary>
    public static IReadOnlyList<string> Texts { get; } = Enum.GetValues<CertificateSource>().Select(s => s.ToText()).ToArray();

    /// <summary>The source stored as <paramref name="text"/>; a string this version does not know reads as imported.</summary>
    public static CertificateSource Parse(string text) => text switch
    {
        "selfSigned" => CertificateSource.SelfSigned,
        "factory" => CertificateSource.Factory,
        "acme" => CertificateSource.Acme,
        _ => CertificateSource.Imported,
    };
}
