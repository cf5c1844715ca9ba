using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>Exact bytes over TLS to the appliance (SslStream, any certificate accepted), and curl with the same freedom.</summary>
public static class RawTls
{
    public static async Task<SslStream> ConnectAsync(int port, IPAddress? address = null, string serverName = "site.test")
    {
        var client = new TcpClient(address?.AddressFamily ?? AddressFamily.InterNetwork);
        await client.ConnectAsync(address ?? IPAddress.Loopback, port);
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName });
        return tls;
    }

    /// <summary>
    /// Sends the bytes and reads until the appliance closes the connection or stays silent for <paramref name="quiet"/>;
    /// returns everything received (Latin-1).
    /// </summary>
    public static async Task<string> ExchangeAsync(int port, string request, TimeSpan? quiet = null, IPAddress? address = null)
    {
        await using var tls = await ConnectAsync(port, address);
        await tls.WriteAsync(Encoding.Latin1.GetBytes(request));
        await tls.FlushAsync();
        return await ReadAllAsync(tls, quiet ?? TimeSpan.FromSeconds(3));
    }

    public static async Task<string> ReadAllAsync(Stream stream, TimeSpan quiet)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            using var silence = new CancellationTokenSource(quiet);
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, silence.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                break;
            }
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>Status codes of every response in a received byte stream, in order.</summary>
    public static IReadOnlyList<int> Statuses(string received) =>
        System.Text.RegularExpressions.Regex.Matches(received, @"(?m)^HTTP/1\.1 (\d{3}) ").Select(m => int.Parse(m.Groups[1].Value)).ToList();

    /// <summary>Runs curl (-sk, status on the last line); throws with curl's words when it fails to run.</summary>
    public static async Task<(int Status, string Body, string Headers)> CurlAsync(params string[] arguments)
    {
        var headers = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "-sk", "--max-time", "120", "-D", headers, "-w", "\n%{http_code}" }.Concat(arguments)) info.ArgumentList.Add(argument);
            using var process = Process.Start(info) ?? throw new InvalidOperationException("curl did not start; install it (apt-get install curl).");
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var text = await output;
            var newline = text.LastIndexOf('\n');
            var status = int.Parse(text[(newline + 1)..]);
            if (status == 0) throw new InvalidOperationException($"curl {string.Join(' ', arguments)} got no answer (exit {process.ExitCode}): {await errors}");
            return (status, text[..newline], await File.ReadAllTextAsync(headers));
        }
        finally
        {
            File.Delete(headers);
        }
    }
}
