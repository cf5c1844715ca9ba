using System.Diagnostics;
using System.Text;
using MimeKit;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>How the test SMTP server is protected: none, STARTTLS or TLS from the first byte, with the certificate and
/// key files for TLS, and a login (username and password) it requires when given.</summary>
public sealed record SmtpSinkOptions(string Security = "none", string? CertificatePath = null, string? KeyPath = null, string? Username = null, string? Password = null);

/// <summary>
/// A real SMTP server for the tests: Debian's aiosmtpd on a free loopback port, run by a short script (<see cref="Server"/>)
/// that adds STARTTLS, implicit TLS and AUTH as asked, and whose debugging handler prints every message it accepts to
/// stdout; the messages are parsed back with MimeKit.
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

    // argv: port, security (none|starttls|tls), certificate, key, username, password. AUTH needs TLS first with STARTTLS
    // (aiosmtpd's auth_require_tls); with implicit TLS the whole connection is TLS already.
    private const string Server = """
        import asyncio, base64, ssl, sys
        from aiosmtpd.handlers import Debugging
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
        port, security, cert, key, user, password = sys.argv[1:7]
        context = None
        if security != "none":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
        # handled=False: aiosmtpd answers a failed login with "535 5.7.8 Authentication credentials invalid" itself.
        # Every login attempt is recorded (base64, so any byte survives the line): what a server learns, right or wrong.
        def authenticate(server, session, envelope, mechanism, data):
            if isinstance(data, LoginPassword):
                print("AUTH-RECEIVED", mechanism, base64.b64encode(data.login).decode(), base64.b64encode(data.password).decode(), flush=True)
            return AuthResult(success=isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password, handled=False)
        options = {}
        if user:
            options.update(authenticator=authenticate, auth_required=True, auth_require_tls=(security != "tls"))
        if security == "starttls":
            options.update(tls_context=context, require_starttls=True)
        loop = asyncio.new_event_loop()
        handler = Debugging(sys.stdout)
        loop.run_until_complete(loop.create_server(lambda: SMTP(handler, loop=loop, **options), "127.0.0.1", int(port),
                                                   ssl=context if security == "tls" else None))
        print("listening", flush=True)
        loop.run_forever()
        """;

    public static async Task<SmtpSink> StartAsync(SmtpSinkOptions? options = null)
    {
        if (!File.Exists(Python) || !Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd"))
            throw new InvalidOperationException("aiosmtpd is missing: apt-get install python3-aiosmtpd (./build.sh test installs it).");
        options ??= new SmtpSinkOptions();
        var port = ExternalTools.FreeTcpPort();
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-u", "-c", Server, port.ToString(), options.Security, options.CertificatePath ?? "", options.KeyPath ?? "",
                     options.Username ?? "", options.Password ?? "" })
            info.ArgumentList.Add(arg);
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
                // The debugging handler puts the MAIL FROM parameters (SIZE=..., BODY=...) and a blank line before the message.
                if (text.AsSpan(start).StartsWith("mail options:", StringComparison.Ordinal)) start = text.IndexOf("\n\n", start, StringComparison.Ordinal) + 2;
                using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text[start..end].Replace("\n", "\r\n")));
                messages.Add(MimeMessage.Load(stream));
                at = end;
            }
            return messages;
        }
    }

    /// <summary>Every login attempt received so far (AUTH PLAIN or LOGIN), oldest first, accepted or not.</summary>
    public IReadOnlyList<(string Mechanism, string Username, string Password)> Logins =>
        Output.Split('\n').Where(line => line.StartsWith("AUTH-RECEIVED ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .Select(f => (f[1], Encoding.UTF8.GetString(Convert.FromBase64String(f[2])), Encoding.UTF8.GetString(Convert.FromBase64String(f[3]))))
            .ToList();

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
