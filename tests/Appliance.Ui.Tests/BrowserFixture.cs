using System.Text.RegularExpressions;
using Appliance.Tests;

namespace Appliance.Ui.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright (headless, no sandbox as root, no background networking), and one
/// appliance on loopback shared by the browser tests of the collection.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public ApplianceProcess Appliance { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium (./build.sh test installs it).");
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Appliance = await ApplianceProcess.StartAsync();
    }

    /// <summary>A fresh browser context (no cookies) on <paramref name="appliance"/>, or on the shared one.</summary>
    public async Task<IPage> NewPageAsync(ApplianceProcess? appliance = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = $"https://127.0.0.1:{(appliance ?? Appliance).HttpsPort}",
            IgnoreHTTPSErrors = true, // the factory certificate is self-signed
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    /// <summary>A page logged in as admin on the shared appliance, at Status > Basics.</summary>
    public async Task<IPage> LoggedInPageAsync()
    {
        var page = await NewPageAsync();
        await LogInAsync(page, ApplianceProcess.AdminPassword);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/appliance/status$"));
        return page;
    }

    public static async Task LogInAsync(IPage page, string password, string username = "admin")
    {
        await page.GotoAsync("/appliance/login");
        await page.GetByLabel("Username").FillAsync(username);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Appliance is not null) await Appliance.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>, ICollectionFixture<OpenSslFixture>
{
    public const string Name = "browser";
}

public static class Paths
{
    /// <summary>out/ at the top of the repository (beside Firmware.sln): screenshots go to out/screenshots.</summary>
    public static string Out(string sub)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Firmware.sln"))) directory = directory.Parent;
        var path = Path.Combine(directory?.FullName ?? Path.GetTempPath(), "out", sub);
        Directory.CreateDirectory(path);
        return path;
    }
}
