using System.Buffers.Binary;

namespace Appliance.Tpm.Marshalling;

/// <summary>
/// Big-endian writer over a caller-owned span (TPM 2.0 Part 1, 18.2: all integers on the wire
/// are big-endian). Throws when the span is too small instead of growing: commands are bounded
/// by TPM_PT_MAX_COMMAND_SIZE.
/// </summary>
internal ref struct Tpm2Writer
{
    private readonly Span<byte> _buffer;

    public Tpm2Writer(Span<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly ReadOnlySpan<byte> Written => _buffer[..Position];

    public void WriteByte(byte value) => Take(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Take(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Take(4), value);

    public void WriteBytes(scoped ReadOnlySpan<byte> value) => value.CopyTo(Take(value.Length));

    /// <summary>A TPM2B: UINT16 size, then the bytes.</summary>
    public void WriteSized(scoped ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"A TPM2B holds at most 65535 bytes; got {value.Length}.", nameof(value));
        }

        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    /// <summary>Reserves a UINT16 size for a nested structure; close it with <see cref="EndSized16"/>.</summary>
    public int BeginSized16()
    {
        WriteUInt16(0);
        return Position;
    }

    public readonly void EndSized16(int start)
    {
        var length = Position - start;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(start - 2, 2), checked((ushort)length));
    }

    /// <summary>Reserves a UINT32 size (authorization area); close it with <see cref="EndSized32"/>.</summary>
    public int BeginSized32()
    {
        WriteUInt32(0);
        return Position;
    }

    public readonly void EndSized32(int start)
    {
        var length = Position - start;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(start - 4, 4), (uint)length);
    }

    public readonly void PatchUInt32(int offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.Slice(offset, 4), value);

    public readonly byte[] ToArray() => _buffer[..Position].ToArray();

    private Span<byte> Take(int count)
    {
        if (Position + count > _buffer.Length)
        {
            throw new InvalidOperationException($"TPM command buffer of {_buffer.Length} bytes is too small for {Position + count} bytes.");
        }

        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }
}
