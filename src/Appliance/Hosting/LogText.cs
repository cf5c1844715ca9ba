using System.Text;

namespace Appliance.Hosting;

/// <summary>
/// Outside values (ids, names, paths, SNI names, usernames) made safe for one log line or audit field: control
/// characters (C0, DEL, C1) as <c>\xNN</c>, line/paragraph separators and bidi controls as <c>\uNNNN</c>, a backslash
/// as <c>\\</c> (so an escape cannot be forged), and at most <see cref="MaxLength"/> characters (then "...").
/// A value cannot start a new line or re-order what follows it (CWE-117, Trojan Source CVE-2021-42574).
/// </summary>
internal static class LogText
{
    public const int MaxLength = 256;

    public static string Escape(string? value) => Escape(value, MaxLength);

    public static string Escape(string? value, int maxLength)
    {
        if (value is null) return "";
        var clean = value.Length <= maxLength;
        foreach (var c in value)
            if (c == '\\' || NeedsEscape(c)) { clean = false; break; }
        if (clean) return value;

        var text = new StringBuilder(Math.Min(value.Length, maxLength) + 16);
        var taken = 0;
        foreach (var c in value)
        {
            if (taken == maxLength)
            {
                text.Append("...");
                break;
            }
            taken++;
            if (c == '\\') text.Append(@"\\");
            else if (c < 0x100 && NeedsEscape(c)) text.Append(@"\x").Append(((int)c).ToString("x2"));
            else if (NeedsEscape(c)) text.Append(@"\u").Append(((int)c).ToString("x4"));
            else text.Append(c);
        }
        return text.ToString();
    }

    /// <summary>C0 and C1 controls and DEL; U+2028/2029 (line, paragraph separators); bidi embeddings, overrides and isolates; BOM.</summary>
    private static bool NeedsEscape(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f'
        || c is '\u2028' or '\u2029' or '\u061c' or '\u200e' or '\u200f' or '\ufeff'
        || c is >= '\u202a' and <= '\u202e'
        || c is >= '\u2066' and <= '\u2069';
}
