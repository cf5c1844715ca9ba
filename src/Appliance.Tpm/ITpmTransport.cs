namespace Appliance.Tpm;

/// <summary>
/// The device seam: sends one complete TPM command and returns the complete response. Blocks until
/// the TPM answers or the transport's timeout passes (then throws <see cref="TimeoutException"/>).
/// Not thread-safe: a TPM processes one command at a time.
/// </summary>
public interface ITpmTransport : IDisposable
{
    byte[] Transmit(ReadOnlySpan<byte> command);
}
