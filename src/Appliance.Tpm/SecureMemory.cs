using System.Runtime.InteropServices;
using System.Security.Cryptography;
using static Tmds.Linux.LibC;

namespace Appliance.Tpm;

/// <summary>Process-wide memory hygiene for key material (DESIGN.md "The state and the keys").</summary>
public static partial class SecureMemory
{
    // Tmds.LibC 0.5.0 has no prctl binding; a source-generated P/Invoke is AOT-safe. Values from <linux/prctl.h>.
    private const int PrGetDumpable = 3;
    private const int PrSetDumpable = 4;

    /// <summary>
    /// prctl(PR_SET_DUMPABLE, 0): no core dumps, and other processes of the same user cannot
    /// ptrace the service or read its /proc/PID/mem. Throws when the kernel refuses.
    /// </summary>
    public static void MakeProcessNonDumpable()
    {
        if (Prctl(PrSetDumpable, 0, 0, 0, 0) != 0)
        {
            throw new InvalidOperationException($"prctl(PR_SET_DUMPABLE, 0) failed with errno {Marshal.GetLastPInvokeError()}; the process would stay dumpable.");
        }
    }

    /// <summary>prctl(PR_GET_DUMPABLE).</summary>
    public static bool IsProcessDumpable => Prctl(PrGetDumpable, 0, 0, 0, 0) != 0;

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}

/// <summary>
/// A buffer for key material outside the GC heap: page-aligned, locked in RAM (mlock, never swapped),
/// excluded from core dumps (MADV_DONTDUMP) and zeroed when disposed. The GC never copies it.
/// </summary>
public sealed unsafe class SecureBuffer : IDisposable
{
    private readonly nuint _capacity;
    private byte* _pointer;

    public SecureBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var pageSize = (nuint)Environment.SystemPageSize;
        _capacity = ((nuint)length + pageSize - 1) / pageSize * pageSize;
        _pointer = (byte*)NativeMemory.AlignedAlloc(_capacity, pageSize);
        NativeMemory.Clear(_pointer, _capacity);
        Length = length;
        // mlock fails under a small RLIMIT_MEMLOCK; the buffer still works, and IsLocked tells the host.
        IsLocked = mlock(_pointer, (Tmds.Linux.size_t)(ulong)_capacity) == 0;
        IsExcludedFromDumps = madvise(_pointer, (Tmds.Linux.size_t)(ulong)_capacity, MADV_DONTDUMP) == 0;
    }

    public int Length { get; }

    /// <summary>Whether mlock succeeded (the pages cannot be swapped out).</summary>
    public bool IsLocked { get; }

    /// <summary>Whether madvise(MADV_DONTDUMP) succeeded.</summary>
    public bool IsExcludedFromDumps { get; }

    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return new Span<byte>(_pointer, Length);
        }
    }

    /// <summary>Copies <paramref name="source"/> into a new buffer; the caller still zeroes the source.</summary>
    public static SecureBuffer CopyOf(ReadOnlySpan<byte> source)
    {
        var buffer = new SecureBuffer(source.Length);
        source.CopyTo(buffer.Span);
        return buffer;
    }

    public void Dispose()
    {
        if (_pointer == null)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(new Span<byte>(_pointer, (int)_capacity));
        if (IsLocked)
        {
            munlock(_pointer, (Tmds.Linux.size_t)(ulong)_capacity);
        }

        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
        GC.SuppressFinalize(this);
    }

    ~SecureBuffer() => Dispose();
}
