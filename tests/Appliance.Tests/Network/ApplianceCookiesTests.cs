using Appliance.Network;

namespace Appliance.Tests.Network;

public sealed class ApplianceCookiesTests
{
    [Theory]
    [InlineData("appliance_session=x; Path=/appliance", true)]
    [InlineData("__Host-appliance_session=x; Path=/; Secure", true)]
    [InlineData("__secure-APPLIANCE_antiforgery=x; Path=/", true)]
    [InlineData(" Appliance_notice = x", true)]
    [InlineData("appliance_session", true)]
    [InlineData("site=1; Path=/appliance", true)]
    [InlineData("site=1; Path=/appliance/", true)]
    [InlineData("site=1; Domain=site.test; path=/Appliance/api", true)]
    [InlineData("site=1; Path=/%61ppliance", true)]
    [InlineData("site=1; Path=/shop; Path=/appliance", true)]
    [InlineData("site=1; Path=/", false)]
    [InlineData("site=1; Path=/appliances", false)]
    [InlineData("site=1; Path=/shop/appliance", false)]
    [InlineData("site=appliance_session; Path=/", false)]
    [InlineData("__Host-site=1; Path=/; Secure", false)]
    public void DropsASetCookieForTheAppliancesPathOrNamesOnly(string setCookie, bool dropped) =>
        Assert.Equal(dropped, ApplianceCookies.IsForAppliance(setCookie));

    [Fact]
    public void KeepsTheSitesCookiesInARequestAndLeavesOutTheAppliances()
    {
        Assert.Equal("site=1; other=2", ApplianceCookies.WithoutApplianceCookies(["appliance_session=s; site=1", "__Host-appliance_antiforgery=t;other=2"]));
        Assert.Null(ApplianceCookies.WithoutApplianceCookies(["appliance_session=s"]));
    }
}
