using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm;

/// <summary>
/// A sealed vault key as stored in the state directory. <see cref="Public"/> and <see cref="Private"/> are
/// the TPM2B_PUBLIC and TPM2B_PRIVATE from TPM2_Create, size prefixes included: the files
/// <c>tpm2_load -u PUBLIC -r PRIVATE</c> reads. <see cref="PcrValues"/> are the SHA-256 PCR values the
/// policy was built from (not secret), kept to name the PCRs that changed when unsealing fails.
/// </summary>
public sealed record TpmSealedBlob(byte[] Public, byte[] Private, IReadOnlyDictionary<int, byte[]> PcrValues)
{
    private static ReadOnlySpan<byte> Magic => "ATVK"u8;
    private const byte FormatVersion = 1;

    /// <summary>The PCRs (SHA-256 bank) the key is bound to; empty when it is not bound to PCRs.</summary>
    public IReadOnlyList<int> Pcrs => [.. PcrValues.Keys.Order()];

    /// <summary>One file: "ATVK", version 1, UINT8 PCR count, (UINT8 index, 32-byte value) each, TPM2B_PUBLIC, TPM2B_PRIVATE.</summary>
    public byte[] ToBytes()
    {
        var buffer = new byte[6 + PcrValues.Count * 33 + Public.Length + Private.Length];
        var writer = new Tpm2Writer(buffer);
        writer.WriteBytes(Magic);
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)PcrValues.Count);
        foreach (var pcr in Pcrs)
        {
            writer.WriteByte((byte)pcr);
            writer.WriteBytes(PcrValues[pcr]);
        }

        writer.WriteBytes(Public);
        writer.WriteBytes(Private);
        return writer.ToArray();
    }

    public static TpmSealedBlob Parse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Tpm2Reader(bytes);
            if (!reader.ReadBytes(4).SequenceEqual(Magic) || reader.ReadByte() != FormatVersion)
            {
                throw new TpmFormatException("not a sealed vault key file (ATVK, version 1)");
            }

            var pcrValues = new SortedDictionary<int, byte[]>();
            for (var count = reader.ReadByte(); count > 0; count--)
            {
                var pcr = reader.ReadByte();
                pcrValues[pcr] = reader.ReadBytes(32).ToArray();
            }

            var publicArea = reader.ReadSizedWithPrefix().ToArray();
            var privateArea = reader.ReadSizedWithPrefix().ToArray();
            reader.ExpectEnd("sealed vault key file");
            TpmtPublic.FromTpm2B(publicArea);
            return new TpmSealedBlob(publicArea, privateArea, pcrValues);
        }
        catch (TpmFormatException e)
        {
            throw new TpmVaultException(TpmVaultFailureReason.InvalidBlob, $"The sealed vault key file is damaged or not ours ({e.Message}); restore it from backup or re-import the certificates with their keys.", e);
        }
    }

    internal TpmsPcrSelection Selection => new(TpmAlg.Sha256, [.. Pcrs]);
}
