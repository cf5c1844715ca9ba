using System.Buffers.Binary;
using System.Text;

namespace Appliance.Tls.OpenSsl;

/// <summary>
/// Reads the host name from a ClientHello's server_name extension body (RFC 6066 section 3) as libssl itself does
/// (ssl/statem/extensions_srvr.c): a ServerNameList of exactly one entry, of type host_name, 1 to 255 bytes, no NUL.
/// Anything else is no name: libssl then refuses the malformed extension itself (decode_error or unrecognized_name),
/// so a lenient reading here could only pick a certificate for a handshake that fails anyway. Hostile bytes: every
/// length is checked against what is there, nothing is trusted.
/// </summary>
internal static class ServerNameExtension
{
    public const int MaxHostNameLength = 255;
    private const byte HostNameType = 0;

    public static string? HostName(ReadOnlySpan<byte> extension)
    {
        if (extension.Length < 2) return null;
        var list = extension[2..];
        if (BinaryPrimitives.ReadUInt16BigEndian(extension) != list.Length) return null;
        if (list.Length < 3 || list[0] != HostNameType) return null;
        var name = list[3..];
        if (BinaryPrimitives.ReadUInt16BigEndian(list[1..]) != name.Length) return null;
        if (name.Length is 0 or > MaxHostNameLength || name.Contains((byte)0)) return null;
        return Encoding.UTF8.GetString(name);
    }
}
