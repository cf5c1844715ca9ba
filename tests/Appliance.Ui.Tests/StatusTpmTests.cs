using Appliance.Tests;
using Appliance.Tpm.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Status > Basics with the keys sealed by a TPM (swtpm), and after the disk moved to another TPM.</summary>
[Collection(BrowserCollection.Name)]
public sealed class StatusTpmTests(BrowserFixture browser)
{
    private async Task<IPage> StatusPageAsync(ApplianceProcess appliance)
    {
        var page = await browser.NewPageAsync(appliance);
        await BrowserFixture.LogInAsync(page, ApplianceProcess.AdminPassword);
        await page.GotoAsync("/appliance/status");
        return page;
    }

    [Fact]
    public async Task TheTpmsManufacturerAndFirmwareAreShownAndAVaultSealedByAnotherTpmIsRedWithWhatToDo()
    {
        using var original = new SwtpmInstance();
        using var other = new SwtpmInstance();
        string state;
        await using (var first = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--tpm", original.Address))
        {
            state = first.StateDirectory;
            var page = await StatusPageAsync(first);
            await Expect(page.Locator("dl.facts")).ToContainTextAsync("TPM 2.0");
            await Expect(page.Locator("dl.facts")).Not.ToContainTextAsync("not TPM-protected");
            await Expect(page.Locator("#tpm-facts")).ToContainTextAsync(", firmware version ");
            await Expect(page.Locator("#vault-state")).ToHaveTextAsync("Open");
            await Expect(page.Locator("#vault-state .bad")).ToHaveCountAsync(0);
            await page.Context.CloseAsync();
        }

        await using (var moved = await ApplianceProcess.StartAsync(state, ApplianceProcess.AdminPassword, "--tpm", other.Address))
        {
            var page = await StatusPageAsync(moved);
            await Expect(page.Locator("#tpm-facts")).ToContainTextAsync(", firmware version ");
            await Expect(page.Locator("#vault-state .bad").First).ToHaveTextAsync("Sealed by another TPM: private keys unavailable");
            await Expect(page.Locator("#vault-state")).ToContainTextAsync("The vault key (vault.tpm) was sealed by a different TPM");
            await Expect(page.Locator("#vault-state")).ToContainTextAsync("Restore the original TPM");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "status-vault-sealed-by-other-tpm.png"), FullPage = true });
            await page.Context.CloseAsync();
        }
    }
}
