using System.Diagnostics;

namespace Appliance.Tpm.Tests.Infrastructure;

/// <summary>Finds and runs the external peers; a missing one fails the test with the install command.</summary>
public static class ExternalTools
{
    public static string Find(string tool)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{tool}' is not installed; {SwtpmInstance.InstallHint}.");
    }

    /// <summary>Runs a tpm2-tools command against the given swtpm and returns its standard output; throws on a non-zero exit.</summary>
    public static byte[] RunTpm2Tool(SwtpmInstance tpm, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Find(arguments[0]))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["TPM2TOOLS_TCTI"] = tpm.Tcti;
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var output = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}");
        }

        return output.ToArray();
    }
}
