using System.Text;

namespace Appliance.Audit;

/// <summary>
/// Makes outside text safe to store and to log: control characters (C0, DEL, C1), line and paragraph separators and
/// bidirectional overrides are written as escapes (<c>\x1b</c>, <c>\u202e</c>), so a value cannot start a new log line,
/// move the terminal's cursor or reorder what an admin reads; and a value is cut at a length with a marker saying so.
/// </summary>
internal static class SafeText
{
    public const string TruncatedMarker = "…[truncated]";

    /// <summary><paramref name="value"/> with every unsafe character escaped, cut to at most <paramref name="maxLength"/> characters (marker included).</summary>
    public static string Escape(string value, int maxLength = int.MaxValue)
    {
        if (maxLength < TruncatedMarker.Length + 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "Leave room for the truncation marker.");
        if (value.Length <= maxLength && !value.Any(NeedsEscape)) return value;
        var text = new StringBuilder(Math.Min(value.Length, maxLength));
        // Cut only when the escaped whole does not fit, and then only between whole characters and escapes.
        var room = EscapedLength(value) <= maxLength ? int.MaxValue : maxLength - TruncatedMarker.Length;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var piece = NeedsEscape(c) ? (c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}")
                : char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) ? value.Substring(i++, 2)
                : c.ToString();
            if (text.Length + piece.Length > room) return text.Append(TruncatedMarker).ToString();
            text.Append(piece);
        }
        return text.ToString();
    }

    /// <summary>Like <see cref="Escape"/>, null staying null.</summary>
    public static string? EscapeOrNull(string? value, int maxLength) => value is null ? null : Escape(value, maxLength);

    /// <summary>
    /// C0 controls, DEL, C1 controls, the line/paragraph separators, the byte order mark and the bidirectional controls
    /// (Unicode TR #9 "explicit formatting"): what must never reach a log line or an admin's screen raw.
    /// </summary>
    public static bool IsUnsafe(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f'
        || c is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029' or '\ufeff'
        || c is >= '\u202a' and <= '\u202e'
        || c is >= '\u2066' and <= '\u2069';

    /// <summary>What <see cref="Escape"/> writes as an escape: the unsafe characters and the backslash (so a value cannot forge an escape).</summary>
    private static bool NeedsEscape(char c) => IsUnsafe(c) || c == '\\';

    private static long EscapedLength(string value)
    {
        long length = 0;
        foreach (var c in value) length += NeedsEscape(c) ? (c <= 0xFF ? 4 : 6) : 1;
        return length;
    }
}
