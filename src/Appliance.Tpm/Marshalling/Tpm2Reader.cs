using System.Buffers.Binary;

namespace Appliance.Tpm.Marshalling;

/// <summary>Big-endian reader over a TPM response; a short or malformed response throws <see cref="TpmFormatException"/>.</summary>
internal ref struct Tpm2Reader
{
    private readonly ReadOnlySpan<byte> _buffer;

    public Tpm2Reader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _buffer.Length - Position;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    /// <summary>A TPM2B: UINT16 size, then the bytes.</summary>
    public ReadOnlySpan<byte> ReadSized() => Take(ReadUInt16());

    /// <summary>A TPM2B including its size prefix, as it appeared on the wire (kept verbatim for blobs).</summary>
    public ReadOnlySpan<byte> ReadSizedWithPrefix()
    {
        var start = Position;
        var size = ReadUInt16();
        Take(size);
        return _buffer[start..Position];
    }

    public ReadOnlySpan<byte> ReadRest() => Take(Remaining);

    public readonly void ExpectEnd(string what)
    {
        if (Remaining != 0)
        {
            throw new TpmFormatException($"{what}: {Remaining} unexpected trailing bytes.");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        // Compared as a remainder: Position + count could overflow for a count near int.MaxValue.
        if (count < 0 || count > _buffer.Length - Position)
        {
            throw new TpmFormatException($"TPM data ends after {_buffer.Length} bytes; {count} more were expected at offset {Position}.");
        }

        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }
}
