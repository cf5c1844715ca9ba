namespace Appliance.Tpm.Tests;

public sealed class TpmExceptionTests
{
    [Fact]
    public void LockoutSaysHowToGetOutOfIt()
    {
        var error = new TpmException("TPM2_Unseal", 0x921);

        Assert.Equal(0x921u, error.Code);
        Assert.False(error.IsTransient);
        Assert.Equal("TPM2_Unseal failed with TPM response code 0x921 (TPM_RC_LOCKOUT): the TPM is in dictionary-attack lockout after repeated authorization failures; wait for the lockout interval to pass or reset it with the lockout authorization (tpm2_dictionarylockout --clear-lockout)", error.Message);
    }

    [Fact]
    public void APolicyFailureNamesTheSessionAndThePcrs()
    {
        var error = new TpmException("TPM2_Unseal", 0x99D);

        Assert.Equal(0x09Du, error.Code);
        Assert.Equal("TPM2_Unseal failed with TPM response code 0x99D (TPM_RC_POLICY_FAIL, session 1): the policy session does not satisfy the object's policy; for a PCR policy, the PCR values differ from those the object was sealed against", error.Message);
    }

    [Fact]
    public void AnIntegrityFailureOnAParameterSaysTheBlobIsFromAnotherTpm()
    {
        var error = new TpmException("TPM2_Load", 0x1DF);

        Assert.Equal(0x09Fu, error.Code);
        Assert.Equal("TPM2_Load failed with TPM response code 0x1DF (TPM_RC_INTEGRITY, parameter 1): the object blob was not made under this TPM's parent key: it comes from another TPM, the TPM was cleared, or the blob is corrupt", error.Message);
    }

    [Theory]
    [InlineData(0x922u, true)]
    [InlineData(0x908u, true)]
    [InlineData(0x90Au, true)]
    [InlineData(0x921u, false)]
    [InlineData(0x98Eu, false)]
    public void OnlyRetryYieldedAndTestingWarningsAreTransient(uint responseCode, bool transient) =>
        Assert.Equal(transient, new TpmException("TPM2_Create", responseCode).IsTransient);

    [Fact]
    public void AnAuthFailureOnAHandleNamesTheHandle() =>
        Assert.StartsWith("TPM2_Load failed with TPM response code 0x18E (TPM_RC_AUTH_FAIL, handle 1): the authorization value or session HMAC was wrong", new TpmException("TPM2_Load", 0x18E).Message);
}
