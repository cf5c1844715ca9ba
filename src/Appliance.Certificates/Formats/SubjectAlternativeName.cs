using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Certificates.Formats;

/// <summary>One validated subject alternative name (RFC 5280 4.2.1.6): a DNS name as lower-case A-labels, or an IP address.</summary>
internal readonly record struct SubjectAlternativeName(string Value, IPAddress? Address)
{
    internal const int MaxNameLength = 253;
    internal const int MaxLabelLength = 63;

    private const string Hint = "Enter a host name such as www.example.com, a wildcard such as *.example.com, or an IPv4 or IPv6 address.";

    internal bool IsDns => Address is null;

    /// <summary>Parses and normalizes <paramref name="raw"/>; throws <see cref="CertificateRequestException"/> saying what is wrong.</summary>
    internal static SubjectAlternativeName Parse(string? raw)
    {
        string name = (raw ?? string.Empty).Trim();
        if (name.Length == 0)
        {
            throw new CertificateRequestException($"A subject alternative name is empty. {Hint}");
        }

        if (TryParseAddress(name, out var address))
        {
            return new SubjectAlternativeName(address.ToString(), address);
        }

        string? problem = CheckDnsName(name, out string normalized);
        if (problem is not null)
        {
            throw new CertificateRequestException($"The subject alternative name \"{Shown(name)}\" is not valid: {problem}. {Hint}");
        }

        return new SubjectAlternativeName(normalized, null);
    }

    /// <summary>True when <paramref name="name"/> is a usable DNS name (wildcards included); used for the common name.</summary>
    internal static bool TryParseDnsName(string name, out string normalized) =>
        CheckDnsName(name.Trim(), out normalized) is null && !TryParseAddress(name.Trim(), out _);

    // Literal addresses only in their unambiguous forms: dotted-quad IPv4 without leading zeros
    // (IPAddress.Parse would also take "1", "1.2" and octal), IPv6 without a zone index.
    private static bool TryParseAddress(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (name.Contains(':', StringComparison.Ordinal))
        {
            return !name.Contains('%', StringComparison.Ordinal)
                && IPAddress.TryParse(name, out address)
                && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        string[] parts = name.Split('.');
        if (parts.Length != 4 || !parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p, CultureInfo.InvariantCulture) <= 255))
        {
            return false;
        }

        address = IPAddress.Parse(name);
        return true;
    }

    // RFC 1035 2.3.1 / RFC 1123 2.1 host name syntax, RFC 5890 A-labels for IDNs, RFC 6125 6.4.3 wildcards
    // (only "*" as the whole left-most label, over at least two further labels).
    private static string? CheckDnsName(string name, out string normalized)
    {
        normalized = string.Empty;
        if (name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            return "it contains spaces or control characters";
        }

        if (name.EndsWith('.') && !name.EndsWith("..", StringComparison.Ordinal))
        {
            name = name[..^1]; // the absolute form "example.com." names the same host
        }

        bool wildcard = name.StartsWith("*.", StringComparison.Ordinal);
        string rest = wildcard ? name[2..] : name;
        if (rest.Contains('*', StringComparison.Ordinal) || name == "*")
        {
            return "a wildcard is allowed only as the whole left-most label, as in *.example.com";
        }

        if (rest.Contains("..", StringComparison.Ordinal) || rest.StartsWith('.') || rest.EndsWith('.'))
        {
            return "it has an empty label (\"..\" or a leading dot)";
        }

        string lower = rest.ToLowerInvariant();
        if (lower.Any(c => c > 0x7F))
        {
            try
            {
                lower = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(lower);
            }
            catch (ArgumentException)
            {
                return "it is not a valid internationalized domain name";
            }
        }

        string[] labels = lower.Split('.');
        foreach (string label in labels)
        {
            if (label.Length > MaxLabelLength)
            {
                return $"the label \"{Shown(label)}\" has {label.Length} characters; at most {MaxLabelLength} are allowed";
            }

            if (!label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return "only letters, digits, hyphens and dots are allowed";
            }

            if (label.StartsWith('-') || label.EndsWith('-'))
            {
                return "a label cannot start or end with a hyphen";
            }
        }

        if (labels[^1].All(char.IsAsciiDigit))
        {
            return "the top-level label is numeric (an IPv4 address needs four numbers from 0 to 255)";
        }

        if (wildcard && labels.Length < 2)
        {
            return "a wildcard must stand over a registered domain, as in *.example.com, not over a top-level domain";
        }

        normalized = wildcard ? "*." + lower : lower;
        if (normalized.Length > MaxNameLength)
        {
            return $"it has {normalized.Length} characters; at most {MaxNameLength} are allowed";
        }

        return null;
    }

    /// <summary>The value as safe to echo in a message: no control characters, bounded length.</summary>
    internal static string Shown(string value)
    {
        string clean = new(value.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length > 80 ? clean[..77] + "..." : clean;
    }
}
