using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>GET/PUT email and "send a test email" through the published binary, delivered to a real SMTP server (aiosmtpd).</summary>
public sealed class EmailApiTests : IAsyncLifetime
{
    private SmtpSink _smtp = null!;
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync()
    {
        _smtp = await SmtpSink.StartAsync();
        _appliance = await ApplianceProcess.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
        if (_smtp is not null) await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task AnAdminSavesSmtpSettingsAndTheTestEmailArrivesAtEveryRecipient()
    {
        using var client = await _appliance.LoginAsync();

        var initial = await Json.ReadAsync(await client.GetAsync("email"));
        Assert.False(initial.GetProperty("enabled").GetBoolean());

        var saved = await client.PutAsJsonAsync("email", new
        {
            enabled = true, server = "127.0.0.1", port = _smtp.Port, security = "none",
            sender = "appliance@example.com", recipients = new[] { "admin@example.com", "oncall@example.com" },
        });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var settings = await Json.ReadAsync(saved);
        Assert.Equal("none", settings.GetProperty("security").GetString());
        Assert.Equal(_smtp.Port, settings.GetProperty("port").GetInt32());
        Assert.False(settings.GetProperty("hasPassword").GetBoolean());
        Assert.Equal(2, (await Json.ReadAsync(await client.GetAsync("email"))).GetProperty("recipients").GetArrayLength());

        var test = await client.PostAsync("email/test", null);
        Assert.Equal(HttpStatusCode.OK, test.StatusCode);
        var mail = Assert.Single(await _smtp.WaitForAsync(1));
        Assert.StartsWith("Test email from appliance ", mail.Subject);
        Assert.Equal(["admin@example.com", "oncall@example.com"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Contains("the appliance can send you its alerts", mail.TextBody);
    }

    [Fact]
    public async Task AStoredPasswordIsNeverShownAndIsKeptWhenAPutOmitsIt()
    {
        using var client = await _appliance.LoginAsync();
        var body = new Dictionary<string, object?>
        {
            ["enabled"] = false, ["server"] = "smtp.example.com", ["port"] = 587, ["security"] = "starttls",
            ["username"] = "appliance", ["password"] = "s3cret", ["sender"] = "appliance@example.com", ["recipients"] = new[] { "admin@example.com" },
        };
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("email", body)).StatusCode);
        body.Remove("password");
        var again = await Json.ReadAsync(await client.PutAsJsonAsync("email", body));
        Assert.True(again.GetProperty("hasPassword").GetBoolean());
        Assert.False(again.TryGetProperty("password", out _));
        Assert.DoesNotContain("s3cret", await (await client.GetAsync("email")).Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"enabled":true,"server":"127.0.0.1","port":25,"security":"ssl","sender":"a@example.com","recipients":["b@example.com"]}""",
        "The security 'ssl' is not known: use \"none\", \"starttls\" or \"tls\".")]
    [InlineData("""{"enabled":true,"server":"127.0.0.1","port":25,"security":"none","sender":"a@example.com","recipients":[]}""",
        "There are no recipients: add at least one email address.")]
    [InlineData("""{"enabled":true,"server":"127.0.0.1","port":70000,"security":"none","sender":"a@example.com","recipients":["b@example.com"]}""",
        "The SMTP port 70000 is not a port: use 1 to 65535 (usually 25, 587 for STARTTLS or 465 for TLS).")]
    public async Task UnusableSettingsAreRefusedInWords(string json, string detail)
    {
        using var client = await _appliance.LoginAsync();
        var response = await client.PutAsync("email", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(detail, (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ATestEmailToAServerThatDoesNotListenFailsInWords()
    {
        using var client = await _appliance.LoginAsync();
        var port = ExternalTools.FreeTcpPort();
        await client.PutAsJsonAsync("email", new { enabled = true, server = "127.0.0.1", port, security = "none", sender = "a@example.com", recipients = new[] { "b@example.com" } });
        var response = await client.PostAsync("email/test", null);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith($"The SMTP server 127.0.0.1:{port} could not be reached: ", (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }

    private static object Settings(int port, string security, string? username = null, string? password = null, string? trustedCertificate = null,
        string[]? recipients = null, bool enabled = true) => new
    {
        enabled, server = "127.0.0.1", port, security, username, password,
        sender = "appliance@example.com", recipients = recipients ?? ["admin@example.com"], trustedCertificate,
    };

    [Fact]
    public async Task TheSavedPasswordNeverReachesANewServerUntilItIsEnteredAgainAndStaysWhenOnlyTheRecipientsChange()
    {
        using var tls = new PebbleTls();
        var login = new SmtpSinkOptions("starttls", tls.CertificatePath, tls.KeyPath, "appliance", "s3cret");
        await using var first = await SmtpSink.StartAsync(login);
        await using var second = await SmtpSink.StartAsync(login); // would accept the saved password: it must never see it
        using var client = await _appliance.LoginAsync();
        var ca = File.ReadAllText(tls.CaPath);

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("email", Settings(first.Port, "starttls", "appliance", "s3cret", ca))).StatusCode);
        var recipientsOnly = await Json.ReadAsync(await client.PutAsJsonAsync("email",
            Settings(first.Port, "starttls", "appliance", recipients: ["oncall@example.com"])));
        Assert.True(recipientsOnly.GetProperty("hasPassword").GetBoolean());
        var sent = await client.PostAsync("email/test", null);
        Assert.True(sent.StatusCode == HttpStatusCode.OK, await sent.Content.ReadAsStringAsync() + first.Output);
        Assert.Equal(["oncall@example.com"], Assert.Single(await first.WaitForAsync(1)).To.Mailboxes.Select(m => m.Address));
        var firstLogin = Assert.Single(first.Logins);
        Assert.Equal(("appliance", "s3cret"), (firstLogin.Username, firstLogin.Password));

        // Another port without the password: refused while alerts are on, nothing changed.
        var moved = await client.PutAsJsonAsync("email", Settings(second.Port, "starttls", "appliance"));
        Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
        Assert.Equal($"The SMTP server changed from 127.0.0.1:{first.Port} (starttls) to 127.0.0.1:{second.Port} (starttls): enter the password for "
            + "'appliance' again. The saved password is sent only to the server it was entered for.", (await Json.ReadAsync(moved)).GetProperty("detail").GetString());
        Assert.Equal(first.Port, (await Json.ReadAsync(await client.GetAsync("email"))).GetProperty("port").GetInt32());

        // With alerts off the change is saved without the password, and the test email does not try to log in.
        var movedOff = await Json.ReadAsync(await client.PutAsJsonAsync("email", Settings(second.Port, "starttls", "appliance", enabled: false)));
        Assert.False(movedOff.GetProperty("hasPassword").GetBoolean());
        var refused = await client.PostAsync("email/test", null);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("A login as 'appliance' needs a password: enter it, or leave the username empty to send without login.",
            (await Json.ReadAsync(refused)).GetProperty("detail").GetString());
        Assert.Empty(second.Logins);

        // Entered again with the new server, it is sent there.
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("email", Settings(second.Port, "starttls", "appliance", "s3cret"))).StatusCode);
        var again = await client.PostAsync("email/test", null);
        Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync() + second.Output);
        Assert.Single(await second.WaitForAsync(1));
        var secondLogin = Assert.Single(second.Logins);
        Assert.Equal(("appliance", "s3cret"), (secondLogin.Username, secondLogin.Password));
        Assert.Single(first.Logins);
    }

    [Theory]
    [InlineData("mail.example.net", 587, "starttls", "mail.example.net:587 (starttls)")]
    [InlineData("smtp.example.com", 2525, "starttls", "smtp.example.com:2525 (starttls)")]
    [InlineData("smtp.example.com", 587, "tls", "smtp.example.com:587 (tls)")]
    public async Task ANewServerPortOrSecurityWithoutThePasswordIsRefusedAndTheSameServerInOtherCaseKeepsIt(string server, int port, string security, string shown)
    {
        using var client = await _appliance.LoginAsync();
        object Body(string host, int p, string sec, string? password) => new
        {
            enabled = true, server = host, port = p, security = sec, username = "appliance", password,
            sender = "appliance@example.com", recipients = new[] { "admin@example.com" },
        };
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("email", Body("smtp.example.com", 587, "starttls", "s3cret"))).StatusCode);

        var refused = await client.PutAsJsonAsync("email", Body(server, port, security, null));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal($"The SMTP server changed from smtp.example.com:587 (starttls) to {shown}: enter the password for 'appliance' again. "
            + "The saved password is sent only to the server it was entered for.", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());

        var sameHost = await Json.ReadAsync(await client.PutAsJsonAsync("email", Body("SMTP.Example.COM", 587, "starttls", null)));
        Assert.True(sameHost.GetProperty("hasPassword").GetBoolean());
        var reentered = await Json.ReadAsync(await client.PutAsJsonAsync("email", Body(server, port, security, "s3cret")));
        Assert.True(reentered.GetProperty("hasPassword").GetBoolean());
    }

    [Theory]
    [InlineData("starttls")]
    [InlineData("tls")]
    public async Task TheTestEmailArrivesOverStartTlsOrTlsWithALoginWhenTheServersCaIsTheTrustedCertificate(string security)
    {
        using var tls = new PebbleTls(); // a test CA and a certificate for 127.0.0.1 made with openssl
        await using var smtp = await SmtpSink.StartAsync(new SmtpSinkOptions(security, tls.CertificatePath, tls.KeyPath, "appliance", "s3cret"));
        using var client = await _appliance.LoginAsync();
        var ca = File.ReadAllText(tls.CaPath).Trim();

        var saved = await client.PutAsJsonAsync("email", Settings(smtp.Port, security, "appliance", "s3cret", ca));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(ca, (await Json.ReadAsync(saved)).GetProperty("trustedCertificate").GetString());

        var test = await client.PostAsync("email/test", null);
        Assert.True(test.StatusCode == HttpStatusCode.OK, await test.Content.ReadAsStringAsync() + smtp.Output);
        var mail = Assert.Single(await smtp.WaitForAsync(1));
        Assert.StartsWith("Test email from appliance ", mail.Subject);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedInWords()
    {
        using var tls = new PebbleTls();
        await using var smtp = await SmtpSink.StartAsync(new SmtpSinkOptions("starttls", tls.CertificatePath, tls.KeyPath, "appliance", "s3cret"));
        using var client = await _appliance.LoginAsync();
        await client.PutAsJsonAsync("email", Settings(smtp.Port, "starttls", "appliance", "wrong", File.ReadAllText(tls.CaPath)));

        var response = await client.PostAsync("email/test", null);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var detail = (await Json.ReadAsync(response)).GetProperty("detail").GetString();
        Assert.Equal($"The SMTP server 127.0.0.1:{smtp.Port} refused the login of 'appliance' (535: 5.7.8 Authentication credentials invalid). "
            + "Check the username and password.", detail);
        Assert.Empty(await smtp.WaitForAsync(1, seconds: 1));
    }

    [Fact]
    public async Task AServerWhoseCertificateNoTrustedCaIssuedIsRefusedInWordsAndGetsNoMail()
    {
        using var tls = new PebbleTls();
        await using var smtp = await SmtpSink.StartAsync(new SmtpSinkOptions("tls", tls.CertificatePath, tls.KeyPath));
        using var client = await _appliance.LoginAsync();
        await client.PutAsJsonAsync("email", Settings(smtp.Port, "tls"));

        var response = await client.PostAsync("email/test", null);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var detail = (await Json.ReadAsync(response)).GetProperty("detail").GetString();
        Assert.StartsWith($"The SMTP server 127.0.0.1:{smtp.Port} is not trusted: its certificate (subject CN=localhost, issued by CN=Pebble test TLS CA) "
            + "does not chain to a CA of the system store (", detail);
        Assert.EndsWith("). If it is the right server, paste the certificate of the CA that issued its certificate (or its own self-signed certificate) "
            + "as the trusted certificate in the email settings.", detail);

        // Another CA's certificate as the trusted one does not help either.
        using var other = new PebbleTls();
        await client.PutAsJsonAsync("email", Settings(smtp.Port, "tls", trustedCertificate: File.ReadAllText(other.CaPath)));
        var still = await Json.ReadAsync(await client.PostAsync("email/test", null));
        Assert.Contains("chains neither to a CA of the system store nor to the trusted certificate (CN=Pebble test TLS CA)", still.GetProperty("detail").GetString());
        Assert.Empty(await smtp.WaitForAsync(1, seconds: 1));
    }

    [Fact]
    public async Task ATrustedCertificateThatIsNotPemIsRefusedAndAnEmptyOneRemovesIt()
    {
        using var client = await _appliance.LoginAsync();
        var refused = await client.PutAsJsonAsync("email", Settings(25, "starttls", trustedCertificate: "not a certificate"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.StartsWith("The trusted certificate is not a PEM certificate: ", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());

        using var tls = new PebbleTls();
        await client.PutAsJsonAsync("email", Settings(25, "starttls", trustedCertificate: File.ReadAllText(tls.CaPath)));
        var kept = await Json.ReadAsync(await client.PutAsJsonAsync("email", Settings(25, "starttls")));
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", kept.GetProperty("trustedCertificate").GetString());
        var removed = await Json.ReadAsync(await client.PutAsJsonAsync("email", Settings(25, "starttls", trustedCertificate: "")));
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("trustedCertificate").ValueKind);
    }
}
