using System.Diagnostics;

namespace Appliance.Certificates.Tests;

/// <summary>
/// Runs the other tools whose files admins upload (NSS pk12util and certutil, Java keytool, GnuTLS certtool).
/// A missing tool is a failure that names its Debian package (./build.sh test installs them), never a skip.
/// </summary>
public static class InteropTools
{
    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["openssl"] = "openssl",
        ["pk12util"] = "libnss3-tools",
        ["certutil"] = "libnss3-tools",
        ["keytool"] = "default-jre-headless",
        ["certtool"] = "gnutls-bin",
    };

    /// <summary>Runs <paramref name="tool"/> in <paramref name="directory"/>; returns standard output and error.</summary>
    public static string Run(string directory, string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = directory };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            string package = Packages.TryGetValue(tool, out var p) ? p : tool;
            throw new InvalidOperationException($"{tool} is not installed; install it with `apt-get install -y {package}` (./build.sh test does).", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stdout.Result}{stderr}");
            }

            return stdout.Result + stderr;
        }
    }
}
