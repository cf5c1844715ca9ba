namespace Appliance.Tpm.Tests.Infrastructure;

/// <summary>Keeps every command and response as hex: how the byte vectors in the marshalling tests were recorded.</summary>
internal sealed class RecordingTransport(ITpmTransport inner) : ITpmTransport
{
    public List<(string Command, string Response)> Exchanges { get; } = [];

    public byte[] Transmit(ReadOnlySpan<byte> command)
    {
        var response = inner.Transmit(command);
        Exchanges.Add((Convert.ToHexString(command), Convert.ToHexString(response)));
        return response;
    }

    public void Dispose() => inner.Dispose();
}
