using System.Buffers.Binary;
using System.Text;

namespace Appliance.Acme.Caa;

/// <summary>DNS record types this client asks for or reads (RFC 1035 section 3.2.2, RFC 8659 section 7.1).</summary>
public static class DnsType
{
    public const ushort A = 1;
    public const ushort Cname = 5;
    public const ushort Caa = 257;
}

/// <summary>One resource record of an answer section: owner name, type, and the raw RDATA (names in it already expanded for CNAME).</summary>
public sealed record DnsRecord(string Name, ushort Type, uint Ttl, byte[] Data, string? Target = null);

/// <summary>A parsed DNS response: the response code (RFC 1035 section 4.1.1), the TC bit, and the answer section.</summary>
public sealed record DnsResponse(ushort Id, int ResponseCode, bool Truncated, IReadOnlyList<DnsRecord> Answers)
{
    public const int NoError = 0;
    public const int NameError = 3; // NXDOMAIN
}

/// <summary>Malformed DNS data: a message that cannot be parsed, or a name that cannot be asked.</summary>
public sealed class DnsFormatException(string message) : Exception(message);

/// <summary>
/// DNS messages as RFC 1035 section 4.1 lays them out, as pure functions over bytes: a recursive query for one name and
/// type, and the parts of a response a stub resolver needs. Names are compared case-insensitively and without the trailing dot.
/// </summary>
public static class DnsMessage
{
    private const int HeaderLength = 12;

    /// <summary>A standard query (opcode 0) with RD set (section 4.1.1), one question of class IN.</summary>
    public static byte[] Query(ushort id, string name, ushort type)
    {
        var labels = name.TrimEnd('.').Split('.');
        var length = HeaderLength + 1 + 4;
        foreach (var label in labels)
        {
            var bytes = Encoding.ASCII.GetByteCount(label);
            // Section 2.3.4: labels of 63 octets or less, names of 255 octets or less.
            if (bytes is 0 or > 63) throw new DnsFormatException($"'{name}' is not a DNS name: a label is empty or longer than 63 characters.");
            length += bytes + 1;
        }
        if (length - HeaderLength - 4 > 255) throw new DnsFormatException($"'{name}' is not a DNS name: it is longer than 255 octets.");
        var message = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        message[2] = 0x01; // RD
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1); // QDCOUNT
        var at = HeaderLength;
        foreach (var label in labels)
        {
            message[at] = (byte)Encoding.ASCII.GetBytes(label, message.AsSpan(at + 1));
            at += message[at] + 1;
        }
        message[at++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(at), type);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(at + 2), 1); // IN
        return message;
    }

    /// <summary>Parses a response: header, questions skipped, answer records (authority and additional sections are ignored).</summary>
    public static DnsResponse Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength) throw new DnsFormatException($"The DNS response has {message.Length} bytes, fewer than a header.");
        var id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & 0x8000) == 0) throw new DnsFormatException("The DNS message is a query, not a response.");
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var at = HeaderLength;
        for (var i = 0; i < questions; i++)
        {
            ReadName(message, ref at);
            at += 4;
        }
        var records = new List<DnsRecord>(answers);
        var truncated = (flags & 0x0200) != 0;
        for (var i = 0; i < answers; i++)
        {
            // A truncated UDP answer may end mid-record: keep what is whole; the caller retries over TCP.
            if (truncated && at >= message.Length) break;
            var name = ReadName(message, ref at);
            if (at + 10 > message.Length) throw new DnsFormatException("The DNS response ends inside a record header.");
            var type = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(at + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
            at += 10;
            if (at + length > message.Length) throw new DnsFormatException("The DNS response ends inside a record's data.");
            string? target = null;
            if (type == DnsType.Cname)
            {
                var nameAt = at;
                target = ReadName(message, ref nameAt);
            }
            records.Add(new DnsRecord(name, type, ttl, message.Slice(at, length).ToArray(), target));
            at += length;
        }
        return new DnsResponse(id, flags & 0x000F, truncated, records);
    }

    /// <summary>Reads a possibly compressed name (section 4.1.4) and moves <paramref name="at"/> past it.</summary>
    internal static string ReadName(ReadOnlySpan<byte> message, ref int at)
    {
        var name = new StringBuilder();
        var position = at;
        var jumped = false;
        for (var hops = 0; ; hops++)
        {
            if (position >= message.Length) throw new DnsFormatException("The DNS response ends inside a name.");
            if (hops > 127) throw new DnsFormatException("The DNS response has a compression loop.");
            var length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length) throw new DnsFormatException("The DNS response ends inside a name pointer.");
                if (!jumped) at = position + 2;
                jumped = true;
                position = ((length & 0x3F) << 8) | message[position + 1];
                continue;
            }
            if ((length & 0xC0) != 0) throw new DnsFormatException($"The DNS response has an unknown label type 0x{length:x2}.");
            if (length == 0)
            {
                if (!jumped) at = position + 1;
                return name.ToString().ToLowerInvariant();
            }
            if (position + 1 + length > message.Length) throw new DnsFormatException("The DNS response ends inside a label.");
            if (name.Length > 0) name.Append('.');
            name.Append(Encoding.ASCII.GetString(message.Slice(position + 1, length)));
            position += 1 + length;
        }
    }
}
