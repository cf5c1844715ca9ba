using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace Appliance.Tests.Hostile;

/// <summary>
/// Login under attack, against the published binary: attackers and the admin come from different loopback addresses
/// (client sockets bound to 127.0.0.x), as they would from different hosts.
/// </summary>
public sealed class LoginFloodTests : IAsyncLifetime
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress AdminAddress = IPAddress.Parse("127.0.0.3");
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [Fact]
    public async Task AFloodOfRandomUsernamesFromOneAddressLetsTheAdminLogInFromAnotherWithinTwoSecondsAndCostsUnderTenCpuSeconds()
    {
        const int attempts = 1000;
        const int concurrency = 32;
        using var attacker = _appliance.Client(Attacker);
        var statuses = new ConcurrentBag<(HttpStatusCode Status, bool RetryAfter)>();
        var answered = 0;
        var underWay = new TaskCompletionSource();
        // The admin's login without a flood, on this machine now: on a test machine shared by many builds one login
        // (0.1 s of CPU) can take a second of wall time, and the flood must not be blamed for that.
        var quiet = new List<TimeSpan>();
        for (var i = 0; i < 3; i++) quiet.Add(await TimedAdminLoginAsync());
        var limit = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(2).Ticks, 3 * quiet.Max().Ticks));
        var cpuBefore = _appliance.CpuTime();
        var clock = Stopwatch.StartNew();

        var flood = Parallel.ForEachAsync(Enumerable.Range(0, attempts), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (_, token) =>
        {
            var response = await attacker.PostAsJsonAsync("session", new { username = Guid.NewGuid().ToString("N"), password = Guid.NewGuid().ToString() }, token);
            statuses.Add((response.StatusCode, response.Headers.RetryAfter?.Delta is not null));
            if (Interlocked.Increment(ref answered) == 2 * concurrency) underWay.TrySetResult();
        });

        // The admin logs in from another address again and again while the flood runs.
        await Task.WhenAny(underWay.Task, flood);
        var latencies = new List<TimeSpan>();
        do
        {
            latencies.Add(await TimedAdminLoginAsync());
            // Paced, so the admin's own logins (a hash each) do not make up the CPU measured for the flood.
            if (!flood.IsCompleted) await Task.WhenAny(flood, Task.Delay(250));
        }
        while (!flood.IsCompleted);
        await flood;
        var elapsed = clock.Elapsed;
        var cpu = _appliance.CpuTime() - cpuBefore;

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"flood of {attempts} in {elapsed.TotalSeconds:0.0} s: {cpu.TotalSeconds:0.00} s of appliance CPU, {statuses.Count(s => s.Status == HttpStatusCode.Unauthorized)} passwords checked; "
            + $"admin logins {Seconds(latencies)} during the flood, {Seconds(quiet)} without it");
        Assert.Equal(attempts, statuses.Count);
        Assert.All(latencies, latency => Assert.True(latency < limit,
            $"the admin's logins took {Seconds(latencies)} during the flood, {Seconds(quiet)} without it; the limit is {limit.TotalSeconds:0.00} s"));
        Assert.True(cpu < TimeSpan.FromSeconds(10), $"the flood of {attempts} logins cost the appliance {cpu.TotalSeconds:0.0} s of CPU");
        // Only the address's bucket of attempts had their passwords checked; the rest were refused with Retry-After.
        Assert.All(statuses, s => Assert.True(s.Status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"status {(int)s.Status}"));
        Assert.All(statuses.Where(s => s.Status == HttpStatusCode.TooManyRequests), s => Assert.True(s.RetryAfter));
        var checkedPasswords = statuses.Count(s => s.Status == HttpStatusCode.Unauthorized);
        var allowed = 5 + (int)(elapsed.TotalSeconds / 10) + 1;
        Assert.True(checkedPasswords <= allowed, $"{checkedPasswords} passwords of the flood were checked in {elapsed.TotalSeconds:0.0} s; at most {allowed} should be");
    }

    private async Task<TimeSpan> TimedAdminLoginAsync()
    {
        var started = Stopwatch.StartNew();
        using var admin = await _appliance.LoginAsync(source: AdminAddress);
        return started.Elapsed;
    }

    private static string Seconds(IEnumerable<TimeSpan> latencies) => string.Join(", ", latencies.Select(l => $"{l.TotalSeconds:0.00} s"));

    [Fact]
    public async Task FiveWrongPasswordsForAdminFromOneAddressDoNotStopTheRightPasswordFromAnother()
    {
        using var attacker = _appliance.Client(IPAddress.Parse("127.0.0.4"));
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("session", new { username = "admin", password = $"wrong guess {i}" })).StatusCode);

        // The address that failed is refused, even with the right password, and told when to try again.
        var refused = await attacker.PostAsJsonAsync("session", new { username = "admin", password = ApplianceProcess.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 300);
        Assert.StartsWith("Too many failed logins for this username from your address (5 within 5 minutes); try again in ",
            (await Json.ReadAsync(refused)).GetProperty("detail").GetString());

        // Another address has not failed: the right password works there at once.
        using var admin = _appliance.Client(IPAddress.Parse("127.0.0.5"));
        var response = await admin.PostAsJsonAsync("session", new { username = "admin", password = ApplianceProcess.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("status")).StatusCode);
    }

    [Fact]
    public async Task AUsernameOrPasswordOver256BytesIsRefusedWith400BeforeItsPasswordIsChecked()
    {
        var source = IPAddress.Parse("127.0.0.6");
        using var client = _appliance.Client(source);
        var longName = await client.PostAsJsonAsync("session", new { username = new string('a', 300), password = "whatever it is" });
        Assert.Equal(HttpStatusCode.BadRequest, longName.StatusCode);
        Assert.Equal("application/problem+json", longName.Content.Headers.ContentType?.MediaType);
        Assert.Equal("The username is 300 bytes long; at most 256 bytes (UTF-8) are accepted.", (await Json.ReadAsync(longName)).GetProperty("detail").GetString());

        // Bytes, not characters: 129 two-byte characters are 258 bytes.
        var longPassword = await client.PostAsJsonAsync("session", new { username = "admin", password = new string('é', 129) });
        Assert.Equal(HttpStatusCode.BadRequest, longPassword.StatusCode);
        Assert.Equal("The password is 258 bytes long; at most 256 bytes (UTF-8) are accepted.", (await Json.ReadAsync(longPassword)).GetProperty("detail").GetString());

        // Refused before the limits count an attempt: many of them leave the address's attempts untouched.
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("session", new { username = new string('b', 257 + i), password = "x" })).StatusCode);
        using var admin = await _appliance.LoginAsync(source: source);
    }

    [Fact]
    public async Task TheLoginPageAnswersASixthWrongPasswordWithTooManyAttemptsAndRetryAfter()
    {
        using var browser = _appliance.Client(IPAddress.Parse("127.0.0.8"));
        var login = new Uri(_appliance.BaseUri, "/appliance/login");
        var token = AntiforgeryTokenTests.FormToken(await browser.GetStringAsync(login));
        Task<HttpResponseMessage> Post(string password) => browser.PostAsync(login, new FormUrlEncodedContent(
            [new("__RequestVerificationToken", token), new("username", "admin"), new("password", password)]));
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Post($"wrong guess {i}")).StatusCode);

        var refused = await Post(ApplianceProcess.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 300);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Too many failed logins for this username from your address (5 within 5 minutes); try again in ", html);
        Assert.Contains("<form method=\"post\" action=\"/appliance/login\">", html);
    }

    [Fact]
    public async Task TheLoginPageRefusesAnOverLongUsernameWithAFormErrorAndDoesNotShowItAgain()
    {
        using var browser = _appliance.Client(IPAddress.Parse("127.0.0.7"));
        var login = new Uri(_appliance.BaseUri, "/appliance/login");
        var page = await browser.GetStringAsync(login);
        var token = AntiforgeryTokenTests.FormToken(page);
        var username = new string('z', 300);
        var response = await browser.PostAsync(login, new FormUrlEncodedContent(
            [new("__RequestVerificationToken", token), new("username", username), new("password", "whatever it is")]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("The username is 300 bytes long; at most 256 bytes (UTF-8) are accepted.", html);
        Assert.DoesNotContain(username, html);
    }
}
