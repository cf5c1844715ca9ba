namespace Appliance.Hosting;

/// <summary>
/// Outside values (ids, names, paths, SNI names, usernames) made safe for one log line: the audit log's own rules
/// (<see cref="Audit.SafeText"/>: control, separator and bidi characters escaped, a backslash too so an escape cannot be
/// forged), cut at <see cref="MaxLength"/> characters unless told otherwise (CWE-117, Trojan Source CVE-2021-42574).
/// </summary>
internal static class LogText
{
    public const int MaxLength = 256;

    public static string Escape(string? value, int maxLength = MaxLength) => value is null ? "" : Audit.SafeText.Escape(value, maxLength);
}
