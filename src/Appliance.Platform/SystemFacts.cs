using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Appliance.Platform;

public sealed record NetworkAddress(string Interface, string Address, int PrefixLength, string Family);

public sealed record NetworkInterfaceFacts(string Name, string? MacAddress, bool IsUp, IReadOnlyList<NetworkAddress> Addresses);

/// <summary>Facts of the machine the service runs on, read from the OS on each call (they change: addresses, uptime).</summary>
public sealed class SystemFacts
{
    private readonly string _sysRoot;

    public SystemFacts(string sysRoot = "/")
    {
        _sysRoot = sysRoot;
    }

    public string HostName =>
        ReadLine("proc/sys/kernel/hostname") ?? Environment.MachineName;

    /// <summary>The DMI product name (the box model), or "unknown" where firmware does not say.</summary>
    public string Model => ReadLine("sys/class/dmi/id/product_name") ?? "unknown";

    /// <summary>The DMI serial number; readable by root only on most systems.</summary>
    public string SerialNumber =>
        ReadLine("sys/class/dmi/id/product_serial") is { Length: > 0 } serial ? serial : "unknown";

    public long UptimeSeconds => ParseUptime(ReadLine("proc/uptime"));

    /// <summary>The first field of /proc/uptime, whole seconds; 0 when absent or malformed.</summary>
    public static long ParseUptime(string? procUptime)
    {
        var first = procUptime?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? (long)seconds : 0;
    }

    /// <summary>Every NIC except loopback, with its IPv4 and IPv6 unicast addresses.</summary>
    public IReadOnlyList<NetworkInterfaceFacts> Interfaces(bool includeLoopback = false)
    {
        var result = new List<NetworkInterfaceFacts>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (!includeLoopback && nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
            var addresses = nic.GetIPProperties().UnicastAddresses
                .Where(a => a.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(a => new NetworkAddress(nic.Name, a.Address.ToString(), a.PrefixLength,
                    a.Address.AddressFamily == AddressFamily.InterNetwork ? "ipv4" : "ipv6"))
                .ToList();
            var mac = nic.GetPhysicalAddress().GetAddressBytes();
            result.Add(new NetworkInterfaceFacts(nic.Name,
                mac.Length == 6 ? string.Join(':', mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture))) : null,
                nic.OperationalStatus == OperationalStatus.Up, addresses));
        }
        return result;
    }

    private string? ReadLine(string relativePath)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(_sysRoot, relativePath)).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
