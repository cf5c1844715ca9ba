using System.Diagnostics;
using System.Text;
using MimeKit;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A real SMTP server for the tests: Debian's aiosmtpd (<c>python3 -m aiosmtpd -n</c>) on a free loopback port, whose
/// debugging handler prints every message it accepts to stdout; the messages are parsed back with MimeKit.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private const string Begin = "---------- MESSAGE FOLLOWS ----------";
    private const string End = "------------ END MESSAGE ------------";
    // Debian's interpreter: a python3 earlier on PATH (pyenv) lacks the Debian module.
    private const string Python = "/usr/bin/python3";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SmtpSink(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static async Task<SmtpSink> StartAsync()
    {
        if (!File.Exists(Python) || !Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd"))
            throw new InvalidOperationException("aiosmtpd is missing: apt-get install python3-aiosmtpd (./build.sh test installs it).");
        var port = ExternalTools.FreeTcpPort();
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-u", "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}" }) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        var sink = new SmtpSink(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sink._output) sink._output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sink._output) sink._output.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ExternalTools.WaitForPortAsync(port, () => process.HasExited, () => sink.Output, "aiosmtpd");
        return sink;
    }

    /// <summary>The messages received so far, oldest first.</summary>
    public IReadOnlyList<MimeMessage> Messages
    {
        get
        {
            var messages = new List<MimeMessage>();
            var text = Output;
            var at = 0;
            while ((at = text.IndexOf(Begin, at, StringComparison.Ordinal)) >= 0)
            {
                var start = at + Begin.Length + 1;
                var end = text.IndexOf(End, start, StringComparison.Ordinal);
                if (end < 0) break;
                using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text[start..end].Replace("\n", "\r\n")));
                messages.Add(MimeMessage.Load(stream));
                at = end;
            }
            return messages;
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages arrived.</summary>
    public async Task<IReadOnlyList<MimeMessage>> WaitForAsync(int count, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var messages = Messages;
            if (messages.Count >= count || DateTime.UtcNow > deadline) return messages;
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
