using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Testing;

/// <summary>Finds and runs the real peers the tests need; a missing one is a failure with the install command, never a skip.</summary>
public static class ExternalTools
{
    /// <summary>The full path of <paramref name="tool"/> (PATH, then /usr/sbin and /usr/bin); throws naming the Debian package to install.</summary>
    public static string Require(string tool, string package)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        foreach (var directory in path.Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"{tool} is missing: apt-get install -y {package} (./build.sh test installs it).");
    }

    /// <summary>Runs <paramref name="tool"/> and returns its standard output; throws with its standard error on a non-zero exit or after a minute.</summary>
    public static string Run(string tool, string package, params string[] args) =>
        System.Text.Encoding.UTF8.GetString(RunIn(new ToolRun(tool, package), args).Output);

    /// <summary>
    /// Runs a tool as <paramref name="run"/> says (working directory, environment, standard input) and returns its
    /// standard output as bytes (tpm2-tools write binary structures there) and its standard error.
    /// </summary>
    public static (byte[] Output, string Error) RunIn(ToolRun run, params string[] args)
    {
        var (tool, package) = (run.Tool, run.Package);
        var info = new ProcessStartInfo(Require(tool, package))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = run.Input is not null,
            UseShellExecute = false,
            WorkingDirectory = run.WorkingDirectory ?? "",
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in run.Environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        if (run.Input is not null)
        {
            process.StandardInput.Write(run.Input);
            process.StandardInput.Close();
        }
        using var output = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.BaseStream.CopyToAsync(output);
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not end within 60 s.");
        }
        stdout.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}");
        return (output.ToArray(), stderr.Result);
    }

    /// <summary>How to run one tool: its Debian package (for the install hint), and optionally where and with what.</summary>
    public sealed record ToolRun(string Tool, string Package, string? WorkingDirectory = null,
        IReadOnlyDictionary<string, string>? Environment = null, string? Input = null);

    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts on <paramref name="port"/>; fails at once when the process <paramref name="exited"/>.</summary>
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
                // Polling a port is the only readiness signal these peers give.
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"{what} did not listen on {port} within 30 s:\n{output()}");
    }
}
