using System.Text.RegularExpressions;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Networking > IP Configuration: per-address certificates and switches, and "Which certificate answers?".</summary>
[Collection(BrowserCollection.Name)]
public sealed class NetworkingPageTests(BrowserFixture browser, OpenSslFixture pki)
{
    private const string LockOut = "/appliance cannot be switched off on 127.0.0.1: you are connected through it and no other address keeps it on. Turn it on for another address first.";

    private static async Task AskAsync(IPage page, string address, string serverName)
    {
        await page.GotoAsync("/appliance/networking");
        await page.GetByLabel("Address the client connects to").SelectOptionAsync(address);
        await page.GetByLabel("Hostname the client asks for (SNI)").FillAsync(serverName);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
    }

    private static async Task AssignAsync(IPage page, string address, SelectOptionValue certificate)
    {
        await page.GotoAsync("/appliance/networking");
        await page.GetByLabel($"Certificate for {address}").SelectOptionAsync(certificate);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
    }

    /// <summary>The subject of the certificate the appliance serves on 127.0.0.1 to a client without SNI.</summary>
    private string ServedWithoutSni() =>
        OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{browser.Appliance.HttpsPort}", "-noservername")
            .Replace(" = ", "=");

    [Fact]
    public async Task ACertificateAssignedTo127001IsServedThereWithoutSniAndWhichCertificateAnswersNamesEachRule()
    {
        var host = CertificatesPageTests.Unique("bound") + ".test.example";
        pki.MakeLeaf(host, host, [host, "*." + host]);
        var page = await browser.LoggedInPageAsync();
        await CertificatesPageTests.ImportAsync(page, null, pki.Path(host + ".crt"), pki.Path(host + ".key"), pki.Path("intermediate.crt"), pki.Path("root.crt"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Imported");
        Assert.DoesNotContain("CN=" + host, ServedWithoutSni());

        await AssignAsync(page, "127.0.0.1", new SelectOptionValue { Label = host });
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The settings of 127.0.0.1 are saved");
        var row = page.Locator("#addresses tr[data-address='127.0.0.1']");
        await Expect(row).ToContainTextAsync("Assigned to this address");
        await Expect(page.GetByLabel("Certificate for 127.0.0.1").Locator("option:checked")).ToHaveTextAsync(host);
        Assert.Contains("CN=" + host, ServedWithoutSni());

        var answer = page.Locator("#which-answer");
        await AskAsync(page, "127.0.0.1", "");
        await Expect(answer).ToContainTextAsync(host);
        await Expect(answer).ToContainTextAsync("Assigned to this address");
        await Expect(answer).ToContainTextAsync("The client sends no hostname (no SNI), and this certificate is assigned to 127.0.0.1.");
        await Expect(answer.GetByRole(AriaRole.Link, new() { Name = host, Exact = true })).ToHaveAttributeAsync("href", new Regex("^/appliance/security/certificates/[0-9a-f]{16}$"));

        await AskAsync(page, "127.0.0.1", host.ToUpperInvariant() + ".");
        await Expect(answer).ToContainTextAsync("Exact name match");
        await Expect(answer).ToContainTextAsync(host);

        await AskAsync(page, "127.0.0.1", "www." + host);
        await Expect(answer).ToContainTextAsync("Wildcard match");
        await Expect(answer).ToContainTextAsync($"*.{host}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "networking-ip-configuration.png"), FullPage = true });

        await page.GotoAsync("/appliance/networking?address=not-an-address&serverName=" + host);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("'not-an-address' is not an IP address: pick an address from the list.");

        // Back to no assignment: the address follows the default (or factory) certificate again.
        await AssignAsync(page, "127.0.0.1", new SelectOptionValue { Value = "none" });
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("127.0.0.1: no certificate assigned");
        Assert.DoesNotContain("CN=" + host, ServedWithoutSni());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SwitchingAdminOffOnTheAddressInUseIsRefusedWithTheApisWordsAndChangesNothing()
    {
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/networking");
        var boxes = page.Locator("#addresses input[name=appliance]");
        for (var i = 0; i < await boxes.CountAsync(); i++) await boxes.Nth(i).UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(LockOut);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Nothing was changed.");

        await page.GotoAsync("/appliance/networking");
        await Expect(page.GetByLabel("/appliance answers on 127.0.0.1")).ToBeCheckedAsync();
        Assert.Equal(await boxes.CountAsync(), await page.Locator("#addresses input[name=appliance]:checked").CountAsync());

        // The API refuses the same change in the same words.
        using var client = await browser.Appliance.LoginAsync();
        var addresses = JsonNode.Parse(await client.GetStringAsync("network/addresses"))!.AsArray();
        foreach (var a in addresses) a!["applianceAccess"] = false;
        var response = await client.PutAsJsonAsync("network/addresses", addresses);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(LockOut, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task NoDefaultClearsTheDefaultCertificateAndClientsWithoutSniGetTheFactoryCertificate()
    {
        var host = CertificatesPageTests.Unique("nodefault") + ".test.example";
        pki.MakeLeaf(host, host, [host]);
        var page = await browser.LoggedInPageAsync();
        await CertificatesPageTests.ImportAsync(page, null, pki.Path(host + ".crt"), pki.Path(host + ".key"), pki.Path("intermediate.crt"), pki.Path("root.crt"));
        await CertificatesPageTests.Row(page, host).GetByRole(AriaRole.Radio).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Set Default" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"'{host}' is now the default certificate");
        await Expect(page.GetByLabel("No default certificate")).Not.ToBeCheckedAsync();
        await AskAsync(page, "127.0.0.1", "");
        await Expect(page.Locator("#which-answer")).ToContainTextAsync("Default certificate");
        await Expect(page.Locator("#which-answer")).ToContainTextAsync(host);

        await page.GotoAsync("/appliance/security/certificates");
        await page.GetByLabel("No default certificate").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Set Default" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("No default certificate is set");
        await Expect(page.GetByLabel("No default certificate")).ToBeCheckedAsync();
        await Expect(CertificatesPageTests.Row(page, host).GetByRole(AriaRole.Radio)).Not.ToBeCheckedAsync();
        await page.GotoAsync("/appliance/status");
        await Expect(page.Locator("dl.facts")).ToContainTextAsync("default certificate: none");
        await AskAsync(page, "127.0.0.1", "");
        await Expect(page.Locator("#which-answer")).ToContainTextAsync("Factory certificate");
        Assert.DoesNotContain("CN=" + host, ServedWithoutSni());
        await page.Context.CloseAsync();
    }
}
