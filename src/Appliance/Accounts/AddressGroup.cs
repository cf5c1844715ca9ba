using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Accounts;

/// <summary>
/// The client address as the login limits count it: an IPv4 address on its own (IPv4-mapped IPv6 counts as IPv4),
/// an IPv6 address by its /64, since one site or one host is usually handed a whole /64 (RFC 6177) and could
/// otherwise pick a fresh address for every attempt.
/// </summary>
internal readonly record struct AddressGroup(UInt128 Value)
{
    public static AddressGroup Of(IPAddress? address)
    {
        if (address is null) return default;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // Kept in the ::ffff:0:0/96 form, so no IPv4 address shares a group with an IPv6 /64.
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
            bytes[8..].Clear();
        }
        return new AddressGroup(BinaryPrimitives.ReadUInt128BigEndian(bytes));
    }
}
