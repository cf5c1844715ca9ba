using System.Runtime.InteropServices;

namespace Appliance.Hosting;

/// <summary>
/// Every client connection holds a file descriptor. systemd starts services with a soft limit of 1024 (hard 524288):
/// a thousand idle or slow connections would make accept() fail for everyone else. The soft limit is raised to the
/// hard one at start, as the CoreCLR host does for JIT apps (NativeAOT does not).
/// </summary>
internal static partial class FileDescriptorLimit
{
    private const int RlimitNofile = 7; // Linux, every architecture we build for

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    /// <summary>Raises the soft limit to the hard limit; returns the limit in force (0 when it cannot be read).</summary>
    public static ulong RaiseToHardLimit()
    {
        if (GetRLimit(RlimitNofile, out var limit) != 0) return 0;
        if (limit.Current >= limit.Maximum) return limit.Current;
        var raised = limit with { Current = limit.Maximum };
        return SetRLimit(RlimitNofile, raised) == 0 ? raised.Current : limit.Current;
    }
}
