using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Screenshots of the pages support asks for, saved to out/screenshots for a human look.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ScreenshotTests(BrowserFixture browser, OpenSslFixture pki)
{
    [Fact]
    public async Task StatusBasicsAndSecurityCertificatesAreCapturedWithTheExpiryTimeline()
    {
        var soon = $"soon-{Guid.NewGuid():N}"[..10] + ".test.example";
        var later = $"later-{Guid.NewGuid():N}"[..11] + ".test.example";
        pki.MakeLeaf(soon, soon, [soon], days: 12);
        pki.MakeLeaf(later, later, [later], days: 200);
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/security/certificates/import");
        await page.Locator("#file").SetInputFilesAsync([pki.Path(soon + ".crt"), pki.Path(soon + ".key"), pki.Path(later + ".crt"), pki.Path(later + ".key"), pki.Path("intermediate.crt"), pki.Path("root.crt")]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Imported");

        await page.GotoAsync("/appliance/status");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Status :: Basics" })).ToBeVisibleAsync();
        await Expect(page.Locator("dl.facts")).ToContainTextAsync("not TPM-protected");
        await Expect(page.Locator("#expiry-timeline")).ToContainTextAsync(soon);
        await Expect(page.Locator("#expiry-timeline circle[fill='#d98a00']")).Not.ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "status-basics.png"), FullPage = true });

        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.Locator("#other-certificates")).ToContainTextAsync("Expiring soon: 11 days left");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "security-certificates.png"), FullPage = true });
        await page.Context.CloseAsync();
    }
}
