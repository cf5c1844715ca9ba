using System.Diagnostics;

namespace Appliance.Tests.Tls;

/// <summary>An appliance whose ticket keys rotate every 3 s and whose sessions live 8 s, with two certificates.</summary>
public sealed class ResumptionApplianceFixture : IAsyncLifetime
{
    public const int RotationSeconds = 3;
    public const int LifetimeSeconds = 8;
    public ApplianceProcess Appliance { get; private set; } = null!;
    public OpenSslFixture Pki { get; } = new();

    public async ValueTask InitializeAsync()
    {
        Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword,
            "--tls-ticket-rotation", RotationSeconds.ToString(), "--tls-session-lifetime", LifetimeSeconds.ToString());
        using var client = await Appliance.LoginAsync();
        foreach (var host in new[] { "a.resume.test", "b.resume.test" })
        {
            Pki.MakeLeaf(host, host, [host], keySpec: "ec:" + Pki.Path("p256.param"));
            await Pki.ImportLeafWithChainAsync(client, host, host);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Appliance.DisposeAsync();
        Pki.Dispose();
    }
}

/// <summary>
/// TLS session resumption by stateless tickets, against the published binary with openssl s_client as the client
/// (-sess_out keeps the session the server's ticket carries, -sess_in offers it again): TLS 1.3 and 1.2 resume; a
/// ticket never resumes a handshake whose server name selects another certificate; after a key rotation the old
/// ticket still resumes; once the session lifetime has passed it falls back to a full handshake.
/// </summary>
public sealed class SessionResumptionTests(ResumptionApplianceFixture fixture) : IClassFixture<ResumptionApplianceFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("resume-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>One HTTPS request through s_client; the output says "New" or "Reused" and names the certificate.</summary>
    private string Connect(string serverName, string protocol, string? sessionIn = null, string? sessionOut = null)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { "s_client", "-connect", $"127.0.0.1:{fixture.Appliance.HttpsPort}", "-servername", serverName, protocol, "-ign_eof" })
            info.ArgumentList.Add(arg);
        if (sessionIn is not null) { info.ArgumentList.Add("-sess_in"); info.ArgumentList.Add(sessionIn); }
        if (sessionOut is not null) { info.ArgumentList.Add("-sess_out"); info.ArgumentList.Add(sessionOut); }
        using var process = Process.Start(info)!;
        // A request the server answers and then closes: s_client reads everything, the session ticket included.
        process.StandardInput.Write($"GET /appliance/login HTTP/1.1\r\nHost: {serverName}\r\nConnection: close\r\n\r\n");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "s_client did not finish");
        return output.Result + error.Result;
    }

    private static bool Reused(string output) =>
        output.Contains("\nReused, TLSv1", StringComparison.Ordinal) ? true
        : output.Contains("\nNew, TLSv1", StringComparison.Ordinal) ? false
        : throw new InvalidOperationException("s_client printed neither New nor Reused:\n" + output);

    private static string ServedName(string output) =>
        output.Split('\n').First(l => l.StartsWith("subject=", StringComparison.Ordinal)).Replace(" = ", "=").Split("CN=")[1].Split(',')[0].Trim();

    private string SessionFile(string name) => Path.Combine(_directory, name);

    [Theory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public void AReconnectWithTheTicketResumesAndTheTicketNamesTheSessionLifetime(string protocol)
    {
        var session = SessionFile("session.pem");
        var first = Connect("a.resume.test", protocol, sessionOut: session);
        Assert.False(Reused(first));
        Assert.Contains("HTTP/1.1 200", first);
        Assert.Contains($"TLS session ticket lifetime hint: {ResumptionApplianceFixture.LifetimeSeconds} (seconds)", first);

        var renewed = SessionFile("renewed.pem");
        var second = Connect("a.resume.test", protocol, sessionIn: session, sessionOut: renewed);
        Assert.True(Reused(second), second);
        Assert.Contains("HTTP/1.1 200", second);
        if (protocol == "-tls1_3")
        {
            // A resumed TLS 1.3 handshake brings a new ticket (tickets are not reused, which would link the connections).
            Assert.Contains("TLS session ticket lifetime hint:", second);
            Assert.NotEqual(TicketOf(session), TicketOf(renewed));
        }

        // The session the resumed connection ended with resumes again (TLS 1.2 keeps its ticket while the key is current).
        var third = Connect("a.resume.test", protocol, sessionIn: protocol == "-tls1_3" ? renewed : session);
        Assert.True(Reused(third), third);
    }

    /// <summary>A copy of a saved session whose ticket has one byte flipped at <paramref name="offset"/> (0-15: the key name; later: the sealed part).</summary>
    private string Tampered(string sessionFile, int offset, string name)
    {
        var hex = string.Concat(TicketOf(sessionFile).Split('\n').Skip(1)
            .Select(l => l.Split(" - ", 2) is [_, var rest] ? rest[..Math.Min(rest.Length, 47)].Replace("-", " ") : ""))
            .Replace(" ", "");
        var ticketStart = Convert.FromHexString(hex[..64]); // the first 32 bytes, to find the ticket in the DER
        var der = Path.Combine(_directory, name + ".der");
        OpenSslFixture.RunIn("", null, "sess_id", "-in", sessionFile, "-outform", "DER", "-out", der);
        var bytes = File.ReadAllBytes(der);
        var at = bytes.AsSpan().IndexOf(ticketStart);
        Assert.True(at > 0, "the ticket was not found in the session's DER");
        bytes[at + offset] ^= 0x5a;
        File.WriteAllBytes(der, bytes);
        var pem = SessionFile(name + ".pem");
        OpenSslFixture.RunIn("", null, "sess_id", "-inform", "DER", "-in", der, "-out", pem);
        return pem;
    }

    [Theory]
    [InlineData(3)]   // a key name the appliance never made
    [InlineData(40)]  // the sealed session: the HMAC no longer matches
    public void AForgedOrCorruptedTicketGetsAFullHandshakeAndTheAnswer(int offset)
    {
        var session = SessionFile("genuine.pem");
        Assert.False(Reused(Connect("a.resume.test", "-tls1_3", sessionOut: session)));
        var forged = Tampered(session, offset, $"forged-{offset}");

        var answer = Connect("a.resume.test", "-tls1_3", sessionIn: forged);
        Assert.False(Reused(answer), answer);
        Assert.Contains("HTTP/1.1 200", answer);
        Assert.True(Reused(Connect("a.resume.test", "-tls1_3", sessionIn: session))); // the genuine one still resumes
    }

    /// <summary>The session ticket bytes of a saved session (openssl sess_id prints them as a hex dump).</summary>
    private static string TicketOf(string sessionFile)
    {
        var text = OpenSslFixture.RunIn("", null, "sess_id", "-in", sessionFile, "-text", "-noout");
        var start = text.IndexOf("TLS session ticket:", StringComparison.Ordinal);
        var end = text.IndexOf("Start Time:", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "no ticket in the session:\n" + text);
        return text[start..end];
    }

    [Theory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public void ATicketForOneCertificateNeverResumesANameServedByAnother(string protocol)
    {
        var session = SessionFile("a.pem");
        Assert.Equal("a.resume.test", ServedName(Connect("a.resume.test", protocol, sessionOut: session)));

        var other = Connect("b.resume.test", protocol, sessionIn: session);
        Assert.False(Reused(other), other);
        Assert.Equal("b.resume.test", ServedName(other));
        Assert.Contains("HTTP/1.1 200", other);

        Assert.True(Reused(Connect("a.resume.test", protocol, sessionIn: session)));
    }

    [Fact]
    public async Task AfterARotationAnOldTicketStillResumesAndAfterTheLifetimeItFallsBackToAFullHandshake()
    {
        var early = SessionFile("early.pem");
        var started = Stopwatch.StartNew();
        Assert.False(Reused(Connect("a.resume.test", "-tls1_3", sessionOut: early)));

        // Past one rotation, well within the lifetime: the retired key still opens the ticket.
        await Task.Delay(TimeSpan.FromSeconds(ResumptionApplianceFixture.RotationSeconds + 1));
        var renewed = SessionFile("renewed.pem");
        var afterRotation = Connect("a.resume.test", "-tls1_3", sessionIn: early, sessionOut: renewed);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(ResumptionApplianceFixture.LifetimeSeconds), "the machine was too slow for this test's timing");
        Assert.True(Reused(afterRotation), afterRotation);

        // Past the lifetime of the first session: a full handshake, and the certificate is sent again.
        await Task.Delay(TimeSpan.FromSeconds(ResumptionApplianceFixture.LifetimeSeconds + 1) - started.Elapsed);
        var expired = Connect("a.resume.test", "-tls1_3", sessionIn: early);
        Assert.False(Reused(expired), expired);
        Assert.Equal("a.resume.test", ServedName(expired));
    }
}
