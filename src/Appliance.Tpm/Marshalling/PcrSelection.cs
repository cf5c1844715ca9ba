namespace Appliance.Tpm.Marshalling;

/// <summary>TPMS_PCR_SELECTION (Part 2, 10.6.2): one bank and a bitmap of PCR indices, 3 octets for PCRs 0-23.</summary>
internal sealed record TpmsPcrSelection(TpmAlg Hash, int[] Pcrs)
{
    public const int PcrCount = 24;
    private const int SizeOfSelect = PcrCount / 8;

    public void Marshal(ref Tpm2Writer writer)
    {
        writer.WriteUInt16((ushort)Hash);
        writer.WriteByte(SizeOfSelect);
        Span<byte> bitmap = stackalloc byte[SizeOfSelect];
        foreach (var pcr in Pcrs)
        {
            if (pcr is < 0 or >= PcrCount)
            {
                throw new ArgumentOutOfRangeException(nameof(Pcrs), pcr, $"PCR index must be 0-{PcrCount - 1}.");
            }

            bitmap[pcr / 8] |= (byte)(1 << (pcr % 8));
        }

        writer.WriteBytes(bitmap);
    }

    public static TpmsPcrSelection Unmarshal(ref Tpm2Reader reader)
    {
        var hash = (TpmAlg)reader.ReadUInt16();
        var bitmap = reader.ReadBytes(reader.ReadByte());
        var pcrs = new List<int>();
        for (var i = 0; i < bitmap.Length * 8; i++)
        {
            if ((bitmap[i / 8] & (1 << (i % 8))) != 0)
            {
                pcrs.Add(i);
            }
        }

        return new TpmsPcrSelection(hash, [.. pcrs]);
    }

    /// <summary>TPML_PCR_SELECTION: UINT32 count, then the selections.</summary>
    public static void MarshalList(ref Tpm2Writer writer, IReadOnlyList<TpmsPcrSelection> selections)
    {
        writer.WriteUInt32((uint)selections.Count);
        foreach (var selection in selections)
        {
            selection.Marshal(ref writer);
        }
    }

    public static TpmsPcrSelection[] UnmarshalList(ref Tpm2Reader reader)
    {
        var count = reader.ReadUInt32();
        if (count > 16)
        {
            throw new TpmFormatException($"TPML_PCR_SELECTION with {count} banks: at most 16 are defined.");
        }

        var result = new TpmsPcrSelection[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Unmarshal(ref reader);
        }

        return result;
    }
}
