using System.Security.Cryptography;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Tests.Infrastructure;

namespace Appliance.Tpm.Tests;

[Collection("swtpm")]
public sealed class TpmAuthSessionTests(SwtpmFixture fixture)
{
    [Fact]
    public void TheUnsealedKeyIsEncryptedOnTheWire()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var recording = new RecordingTransport(fixture.Tpm.Connect());
        using var vault = new TpmSealedVaultKey(recording);

        var blob = vault.Seal(key);
        using var unsealed = vault.Unseal(blob);

        Assert.Equal(key, unsealed.Span.ToArray());
        var hexKey = Convert.ToHexString(key);
        Assert.DoesNotContain(recording.Exchanges, e => e.Command.Contains(hexKey, StringComparison.Ordinal) || e.Response.Contains(hexKey, StringComparison.Ordinal));
    }

    [Fact]
    public void AResponseAlteredOnTheWayFromTheTpmIsDetected()
    {
        using var tampering = new TamperingTransport(fixture.Tpm.Connect(), TpmCc.Unseal);
        using var vault = new TpmSealedVaultKey(tampering);
        var blob = vault.Seal(RandomNumberGenerator.GetBytes(32));
        tampering.Armed = true;

        var error = Assert.Throws<TpmFormatException>(() => vault.Unseal(blob));

        Assert.Equal("TPM2_Unseal: the response HMAC does not verify; the response was altered on its way from the TPM.", error.Message);
    }

    [Fact]
    public void TheSessionKeyIsEmptyWithoutASalt() =>
        Assert.Empty(Sessions.TpmAuthSession.DeriveSessionKey([], new byte[32], new byte[32]));

    /// <summary>Flips one bit in the first response parameter of the chosen command.</summary>
    private sealed class TamperingTransport(ITpmTransport inner, TpmCc target) : ITpmTransport
    {
        private TpmCc _last;

        public bool Armed { get; set; }

        public byte[] Transmit(ReadOnlySpan<byte> command)
        {
            _last = (TpmCc)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(command[6..]);
            var response = inner.Transmit(command);
            if (Armed && _last == target && response.Length > 20)
            {
                // header 10, parameterSize 4, TPM2B size 2: the first data byte is at 16.
                response[16] ^= 0x01;
            }

            return response;
        }

        public void Dispose() => inner.Dispose();
    }
}
