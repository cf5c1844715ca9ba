using System.Buffers.Binary;
using System.Text;
using Appliance.Tls.OpenSsl;
using CsCheck;

namespace Appliance.Tests.Tls;

/// <summary>The ClientHello server_name reader: what libssl accepts is read, anything else is no name, and no input throws.</summary>
public sealed class ServerNameExtensionTests
{
    /// <summary>A server_name extension body: the list length, then each (type, name) entry.</summary>
    private static byte[] Extension(params (byte Type, byte[] Name)[] entries)
    {
        var list = entries.SelectMany(e => new[] { e.Type, (byte)(e.Name.Length >> 8), (byte)e.Name.Length }.Concat(e.Name)).ToArray();
        var body = new byte[2 + list.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)list.Length);
        list.CopyTo(body, 2);
        return body;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void OneHostNameEntryIsRead()
    {
        Assert.Equal("www.example.test", ServerNameExtension.HostName(Extension((0, Ascii("www.example.test")))));
        Assert.Equal(new string('a', 255), ServerNameExtension.HostName(Extension((0, Ascii(new string('a', 255))))));
    }

    [Fact]
    public void WhatLibsslRefusesIsNoName()
    {
        Assert.Null(ServerNameExtension.HostName([]));
        Assert.Null(ServerNameExtension.HostName([0]));
        Assert.Null(ServerNameExtension.HostName(Extension()));
        Assert.Null(ServerNameExtension.HostName(Extension((1, Ascii("www.example.test"))))); // not host_name
        Assert.Null(ServerNameExtension.HostName(Extension((0, Ascii("a.test")), (0, Ascii("b.test"))))); // two entries
        Assert.Null(ServerNameExtension.HostName(Extension((0, []))));
        Assert.Null(ServerNameExtension.HostName(Extension((0, Ascii(new string('a', 256))))));
        Assert.Null(ServerNameExtension.HostName(Extension((0, Ascii("evil.test\0.good.test")))));
        var truncated = Extension((0, Ascii("www.example.test")));
        Assert.Null(ServerNameExtension.HostName(truncated[..^1]));
        var longer = truncated.Append((byte)'x').ToArray();
        Assert.Null(ServerNameExtension.HostName(longer));
        truncated[4] += 1; // the name's length says one byte more than there is
        Assert.Null(ServerNameExtension.HostName(truncated));
    }

    [Fact]
    public void NoInputThrowsAndAnyNameReadIsOneWellFormedEntry()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var name = ServerNameExtension.HostName(bytes);
            if (name is null) return;
            Assert.Equal(bytes.Length, 5 + BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(3)));
            Assert.DoesNotContain('\0', name);
        }, iter: 20_000);
        Gen.Select(Gen.Byte[1, 255].Array[1, 255], bytes => (byte[])bytes).Sample(name =>
            Assert.Equal(Encoding.UTF8.GetString(name), ServerNameExtension.HostName(Extension((0, name)))));
    }
}
