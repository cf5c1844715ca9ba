using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>Runs the real peers the tests need; a missing one is a failure with the install hint, never a skip.</summary>
public static class ExternalTools
{
    public static string Require(string tool, string package)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var path = Path.Combine(directory, tool);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"{tool} is missing: apt-get install {package} (./build.sh test installs it).");
    }

    public static string Run(string tool, string package, params string[] args)
    {
        var info = new ProcessStartInfo(Require(tool, package)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(); throw new TimeoutException($"{tool} {string.Join(' ', args)}"); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitForPortAsync(int port, Func<bool> exited, Func<string> output, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (exited()) throw new InvalidOperationException($"{what} exited at start:\n{output()}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"{what} did not listen on {port} within 30 s:\n{output()}");
    }
}
