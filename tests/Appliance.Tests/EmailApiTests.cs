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
}
