using System.Buffers.Binary;
using Appliance.Tls.OpenSsl;

namespace Appliance.Fuzz.Targets;

/// <summary>
/// The ClientHello server_name reader of the TLS termination (the bytes of the extension body as libssl hands them
/// over). It refuses by returning no name, never by throwing; a name it returns must be the one entry the input holds.
/// </summary>
internal sealed class ServerNameTarget : FuzzTarget
{
    public override string Name => "server-name";

    public override void Run(byte[] input)
    {
        var name = ServerNameExtension.HostName(input);
        if (name is null) return;
        if (input.Length != 5 + BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(3)) || input[2] != 0 || name.Contains('\0'))
            throw new FuzzInvariantException($"a name was read from an extension that is not one host_name entry: {Convert.ToHexString(input)}");
    }

    public override bool IsExpected(Exception exception) => false;
}
