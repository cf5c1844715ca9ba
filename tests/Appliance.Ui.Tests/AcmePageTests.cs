using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>
/// The seed's "Configure an automated certificate" and "Request a new certificate from Let's Encrypt" in the browser:
/// pebble (with EAB) registered through the Register New ACME Server form, a certificate requested, seen valid in the
/// table, and served by the TLS listener for its SNI name; refusals are shown in words and change nothing.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AcmePageTests(BrowserFixture browser) : IAsyncLifetime
{
    private AcmeBox _box = null!;
    private ApplianceProcess _appliance => _box.Appliance;
    private PebbleServer _pebble => _box.Pebble;
    private PebbleTls _tls => _box.Tls;
    private DnsResponder _dns => _box.Dns;

    public async ValueTask InitializeAsync() => _box = await AcmeBox.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_box is not null) await _box.DisposeAsync();
    }

    private static ILocator AutomatedRow(IPage page, string host) =>
        page.Locator("#acme-certificates tbody tr").Filter(new() { Has = page.GetByText(host, new() { Exact = true }) });

    /// <summary>The custom-type fields of the register form, filled; then Submit.</summary>
    private static async Task SubmitServerAsync(IPage page, string directoryUrl, string hmacKey)
    {
        await page.GetByLabel("Directory URL").FillAsync(directoryUrl);
        await page.GetByLabel("EAB Key ID").FillAsync(PebbleServer.EabKeyId);
        await page.GetByLabel("EAB HMAC Key").FillAsync(hmacKey);
        await page.GetByLabel("Email Address").FillAsync("admin@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
    }

    private string ServedFingerprint(string host)
    {
        var output = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{_appliance.HttpsPort}", "-servername", host, "-showcerts");
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(output);
        Assert.True(chain.Count >= 2, $"openssl received {chain.Count} certificates for {host}");
        Assert.Contains(host, chain[0].GetNameInfo(X509NameType.DnsName, false), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(chain[0].Issuer, chain[1].Subject);
        return Convert.ToHexStringLower(SHA256.HashData(chain[0].RawData));
    }

    /// <summary>Reloads Security > Certificates until the row's status is Valid (and no order runs), or fails with the row's words.</summary>
    private async Task WaitForValidAsync(IPage page, string host, Func<bool>? also = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            await page.GotoAsync("/appliance/security/certificates");
            var row = AutomatedRow(page, host);
            text = await row.InnerTextAsync();
            var status = await row.Locator(".acme-status .tag").InnerTextAsync();
            if (status == "Error") Assert.Fail($"The automated certificate failed: {text}\n{_pebble.Output}");
            if (status == "Valid" && await row.GetByRole(AriaRole.Button, new() { Name = "Renew " + host }).IsEnabledAsync() && (also?.Invoke() ?? true)) return;
            await Task.Delay(500);
        }
        throw new TimeoutException($"The automated certificate did not become valid in 90 s: {text}\n{_appliance.Output}\n{_pebble.Output}");
    }

    [Fact]
    public async Task TheRequestFormRunsThePreflightChecksAndAnUnreachableDirectoryIsRefusedInWordsBeforeAnythingIsStored()
    {
        using (var client = await _appliance.LoginAsync())
        {
            var registered = await client.PostAsync("acme/servers", JsonContent.Create(new
            {
                type = "custom", directoryUrl = _pebble.DirectoryUrl.ToString(), email = "admin@example.com",
                eabKeyId = PebbleServer.EabKeyId, eabHmacKey = PebbleServer.EabHmacKey,
            }));
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        }
        var directory = _pebble.DirectoryUrl;
        await _box.StopPebbleAsync();

        var page = await browser.NewPageAsync(_appliance);
        await BrowserFixture.LogInAsync(page, ApplianceProcess.AdminPassword);
        await page.GotoAsync("/appliance/security/certificates");
        await page.GetByLabel("Hostname").FillAsync("localhost");
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Request" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(422, response.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"The certificate for localhost was not requested: The ACME directory {directory} could not be reached");
        await Expect(page.GetByLabel("Hostname")).ToHaveValueAsync("localhost");
        await Expect(page.Locator("#acme-certificates tbody")).ToContainTextAsync("No automated certificates yet");
    }

    [Fact]
    public async Task AnAdminRegistersPebbleThroughTheFormRequestsACertificateSeesItValidAndTlsServesIt()
    {
        var page = await browser.NewPageAsync(_appliance);
        await BrowserFixture.LogInAsync(page, ApplianceProcess.AdminPassword);
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.Locator("#automated-certificates")).ToContainTextAsync("No ACME server is registered");
        await Expect(page.Locator("#acme-certificates")).ToContainTextAsync("avoid use of Let's Encrypt certificates for failover B Series Appliance pairs");

        // The first step chooses the type; Let's Encrypt comes prefilled and without the EAB fields.
        await page.GetByRole(AriaRole.Link, new() { Name = "Register new ACME server" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Automated Certificates :: Register New ACME Server" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Directory URL")).ToHaveValueAsync("https://acme-v02.api.letsencrypt.org/directory");
        await Expect(page.GetByLabel("Terms of Service")).ToHaveValueAsync("https://letsencrypt.org/repository/");
        await Expect(page.GetByLabel("EAB Key ID")).ToHaveCountAsync(0);
        await page.GetByLabel("Server type").SelectOptionAsync("buypass");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show fields" }).ClickAsync();
        await Expect(page.GetByLabel("Directory URL")).ToHaveValueAsync("https://api.buypass.com/acme/directory");
        await page.GetByLabel("Server type").SelectOptionAsync("custom");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show fields" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("type=custom$"));
        await Expect(page.GetByLabel("Directory URL")).ToHaveValueAsync("");
        await Expect(page.GetByLabel("EAB HMAC Key")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "acme-register-server.png"), FullPage = true });

        // Refusals in words, the form kept, nothing registered: not https, nobody answering, a wrong EAB HMAC key.
        await SubmitServerAsync(page, "http://127.0.0.1/dir", PebbleServer.EabHmacKey);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The directory URL 'http://127.0.0.1/dir' is not an https:// URL");
        await Expect(page.GetByLabel("EAB Key ID")).ToHaveValueAsync(PebbleServer.EabKeyId);
        await SubmitServerAsync(page, $"https://127.0.0.1:{ExternalTools.FreeTcpPort()}/dir", PebbleServer.EabHmacKey);
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        Assert.False(string.IsNullOrWhiteSpace(await page.GetByRole(AriaRole.Alert).InnerTextAsync()));
        await SubmitServerAsync(page, _pebble.DirectoryUrl.ToString(), "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Check the EAB key id and HMAC key");
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.Locator("#automated-certificates")).ToContainTextAsync("No ACME server is registered");

        await page.GotoAsync("/appliance/security/acme/servers/new?type=custom");
        await Expect(page.GetByLabel("Server type").Locator("option:checked")).ToHaveTextAsync("Custom ACME server");
        await page.GetByLabel("Terms of Service").FillAsync("https://pebble.test/terms");
        await SubmitServerAsync(page, _pebble.DirectoryUrl.ToString(), PebbleServer.EabHmacKey);
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/security/certificates$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is registered and its account is created");
        var servers = page.Locator("#automated-certificates tbody tr");
        await Expect(servers).ToHaveCountAsync(1);
        await Expect(servers).ToContainTextAsync(_pebble.DirectoryUrl.ToString());
        await Expect(servers).ToContainTextAsync("admin@example.com");
        await Expect(servers).ToContainTextAsync("Registered");
        await Expect(servers.GetByRole(AriaRole.Link, new() { Name = "Terms of Service" })).ToHaveAttributeAsync("href", "https://pebble.test/terms");
        await Expect(page.Locator("#acme-certificates")).ToContainTextAsync("25 days before it expires");

        // A refused request (a wildcard) keeps the form and adds nothing.
        await page.GetByLabel("Hostname").FillAsync("*.acme.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Request" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("wildcard certificates need the dns-01 challenge");
        await Expect(page.GetByLabel("Hostname")).ToHaveValueAsync("*.acme.test");
        await Expect(page.Locator("#acme-certificates tbody")).ToContainTextAsync("No automated certificates yet");

        var host = $"ui-{Guid.NewGuid():N}"[..11] + ".acme.test";
        await page.GetByLabel("Hostname").FillAsync(host);
        await page.GetByLabel("Key type").SelectOptionAsync("ecdsa-p256");
        await Expect(page.GetByLabel("ACME server", new() { Exact = true })).ToContainTextAsync(_pebble.DirectoryUrl.ToString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Request" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"The certificate for {host} is requested");
        await Expect(AutomatedRow(page, host)).ToBeVisibleAsync();

        await WaitForValidAsync(page, host);
        var row = AutomatedRow(page, host);
        await Expect(row.Locator(".acme-error")).ToHaveTextAsync("none");
        await Expect(row).ToContainTextAsync(new Regex(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")); // the next renewal
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "acme-certificates.png"), FullPage = true });
        var first = ServedFingerprint(host);

        // Renew: a forced renewal replaces the served certificate.
        await row.GetByRole(AriaRole.Button, new() { Name = "Renew " + host }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"ordering a new certificate for {host}");
        await WaitForValidAsync(page, host, () => ServedFingerprint(host) != first);

        // Forms posted without their anti-forgery token are refused with 400 and change nothing.
        var serverId = await page.Locator("#automated-certificates tbody tr").GetAttributeAsync("data-id");
        var certificateId = await AutomatedRow(page, host).GetAttributeAsync("data-id");
        foreach (var (path, fields) in new (string, (string, string)[])[]
        {
            ("/appliance/security/acme/servers/delete", [("id", serverId!)]),
            ("/appliance/security/acme/certificates/delete", [("id", certificateId!)]),
            ("/appliance/security/acme/certificates", [("serverId", serverId!), ("hostname", "forged.acme.test"), ("keyType", "ecdsa-p256")]),
        })
        {
            var forged = page.APIRequest.CreateFormData();
            forged.Set("__RequestVerificationToken", "CfDJ8forged");
            foreach (var (name, value) in fields) forged.Set(name, value);
            var response = await page.APIRequest.PostAsync(path, new() { Form = forged, MaxRedirects = 0 });
            Assert.Equal(400, response.Status);
        }
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.Locator("#automated-certificates tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#acme-certificates tbody tr")).ToHaveCountAsync(1);
        await Expect(AutomatedRow(page, host)).ToBeVisibleAsync();

        // A server with certificates is not deleted: the refusal in words, the row stays.
        await page.Locator("#automated-certificates").GetByRole(AriaRole.Button, new() { Name = "Delete ACME server " + _pebble.DirectoryUrl }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The ACME server is used by 1 automated certificate");
        await Expect(page.Locator("#automated-certificates tbody tr")).ToHaveCountAsync(1);

        // Deleting the automated certificate first lets the server go.
        await AutomatedRow(page, host).GetByRole(AriaRole.Button, new() { Name = "Delete automated certificate " + host }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"The automated certificate for {host} is deleted");
        await Expect(page.Locator("#acme-certificates tbody")).ToContainTextAsync("No automated certificates yet");
        await page.Locator("#automated-certificates").GetByRole(AriaRole.Button, new() { Name = "Delete ACME server " + _pebble.DirectoryUrl }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is deleted from the appliance");
        await Expect(page.Locator("#automated-certificates")).ToContainTextAsync("No ACME server is registered");
    }
}
