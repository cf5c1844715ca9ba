using System.Text.RegularExpressions;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Email :: SMTP Settings and "Send a test email" in the browser, the mail delivered to a real SMTP server (aiosmtpd).</summary>
[Collection(BrowserCollection.Name)]
public sealed class EmailPageTests(BrowserFixture browser) : IAsyncLifetime
{
    private SmtpSink _smtp = null!;

    public async ValueTask InitializeAsync() => _smtp = await SmtpSink.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_smtp is not null) await _smtp.DisposeAsync();
    }

    private static async Task FillAsync(IPage page, string server, int port, string security, string sender, string recipients, bool enabled,
        string username = "", string password = "")
    {
        await page.GetByLabel("SMTP server").FillAsync(server);
        await page.GetByLabel("Port").FillAsync(port.ToString());
        await page.GetByLabel("Security").SelectOptionAsync(security);
        await page.GetByLabel("Login user (optional)").FillAsync(username);
        await page.GetByLabel("Login password").FillAsync(password);
        await page.GetByLabel("Sender").FillAsync(sender);
        await page.GetByLabel("Recipients (one address per line)").FillAsync(recipients);
        await page.GetByLabel("Send alerts by email").SetCheckedAsync(enabled);
    }

    [Fact]
    public async Task AnAdminSavesTheSmtpSettingsAndTheTestEmailArrivesAtEveryRecipient()
    {
        var page = await browser.LoggedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Email" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Email :: SMTP Settings" })).ToBeVisibleAsync();
        await FillAsync(page, "127.0.0.1", _smtp.Port, "none", "appliance@example.com", "admin@example.com\noncall@example.com", enabled: true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/email$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The email settings are saved; alerts are sent by email.");
        await Expect(page.GetByLabel("SMTP server")).ToHaveValueAsync("127.0.0.1");
        await Expect(page.GetByLabel("Port")).ToHaveValueAsync(_smtp.Port.ToString());
        await Expect(page.GetByLabel("Recipients (one address per line)")).ToHaveValueAsync("admin@example.com\noncall@example.com");
        await Expect(page.GetByLabel("Send alerts by email")).ToBeCheckedAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test email" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync(
            $"The test email was handed to 127.0.0.1:{_smtp.Port} for admin@example.com, oncall@example.com.");
        var mail = Assert.Single(await _smtp.WaitForAsync(1));
        Assert.StartsWith("Test email from appliance ", mail.Subject);
        Assert.Equal(["admin@example.com", "oncall@example.com"], mail.To.Mailboxes.Select(m => m.Address));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "email.png"), FullPage = true });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task UnusableSettingsAreRefusedInWordsAndChangeNothing()
    {
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/email");
        await FillAsync(page, "127.0.0.1", _smtp.Port, "none", "appliance@example.com", "admin@example.com", enabled: true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The email settings are saved");

        await page.GetByLabel("SMTP server").FillAsync("mail.example.net");
        await page.GetByLabel("Port").FillAsync("seventy");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(
            "The SMTP port 'seventy' is not a number: use 1 to 65535 (usually 25, 587 for STARTTLS or 465 for TLS).");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Nothing was changed.");
        await Expect(page.GetByLabel("SMTP server")).ToHaveValueAsync("mail.example.net"); // the typed values stay for correction

        await page.GetByLabel("Port").FillAsync("25");
        await page.GetByLabel("Recipients (one address per line)").FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There are no recipients: add at least one email address.");

        await page.GotoAsync("/appliance/email");
        await Expect(page.GetByLabel("SMTP server")).ToHaveValueAsync("127.0.0.1");
        await Expect(page.GetByLabel("Recipients (one address per line)")).ToHaveValueAsync("admin@example.com");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AStoredPasswordIsNeverShownAndIsKeptWhenTheFieldIsLeftEmpty()
    {
        const string secret = "smtp-s3cret-value";
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/email");
        await FillAsync(page, "smtp.example.com", 587, "starttls", "appliance@example.com", "admin@example.com", enabled: false, "appliance", secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("alerts are not sent by email until you check");
        await Expect(page.Locator("#password-stored")).ToContainTextAsync(
            "A password is stored; leave the field empty to keep it. Changing the server, port or security clears the saved password; enter it again.");
        await Expect(page.GetByLabel("Login password")).ToHaveValueAsync("");
        Assert.DoesNotContain(secret, await page.ContentAsync());

        await page.GetByLabel("Sender").FillAsync("box@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The email settings are saved");
        await Expect(page.Locator("#password-stored")).ToBeVisibleAsync();
        var api = await page.APIRequest.GetAsync("/appliance/api/v1/email");
        var settings = System.Text.Json.JsonDocument.Parse(await api.TextAsync()).RootElement;
        Assert.True(settings.GetProperty("hasPassword").GetBoolean());
        Assert.Equal("box@example.com", settings.GetProperty("sender").GetString());
        Assert.DoesNotContain(secret, await api.TextAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ATestEmailThatCannotBeSentReportsTheFailureInWords()
    {
        var closed = ExternalTools.FreeTcpPort();
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/email");
        await FillAsync(page, "127.0.0.1", closed, "none", "appliance@example.com", "admin@example.com", enabled: true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Send a test email" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"The test email was not sent. The SMTP server 127.0.0.1:{closed} could not be reached: ");
        await page.Context.CloseAsync();
    }
}
