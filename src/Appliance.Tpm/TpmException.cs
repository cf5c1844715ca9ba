namespace Appliance.Tpm;

/// <summary>
/// A TPM answered a command with a non-zero response code. <see cref="ResponseCode"/> is the raw
/// TPM_RC; <see cref="Code"/> is its base code with the handle/parameter/session number removed.
/// </summary>
public sealed class TpmException : Exception
{
    internal TpmException(string command, uint responseCode)
        : base(FormatMessage(command, responseCode))
    {
        Command = command;
        ResponseCode = responseCode;
        Code = TpmResponseCode.BaseCode(responseCode);
        Hint = TpmResponseCode.Hint(Code);
    }

    /// <summary>The command that failed, as the spec names it ("TPM2_Unseal").</summary>
    public string Command { get; }

    /// <summary>The raw response code from the response header.</summary>
    public uint ResponseCode { get; }

    /// <summary>The response code without its handle, parameter or session number.</summary>
    public uint Code { get; }

    /// <summary>What the code means and what to do about it.</summary>
    public string Hint { get; }

    /// <summary>A warning that says "try again" (RETRY, YIELDED, TESTING): not a failure of the request itself.</summary>
    public bool IsTransient => TpmResponseCode.IsTransient(Code);

    private static string FormatMessage(string command, uint responseCode) =>
        $"{command} failed with TPM response code 0x{responseCode:X3} ({TpmResponseCode.Describe(responseCode)}): {TpmResponseCode.Hint(TpmResponseCode.BaseCode(responseCode))}";
}

/// <summary>A TPM response could not be parsed: truncated, oversized, or inconsistent with the command sent.</summary>
public sealed class TpmFormatException : Exception
{
    internal TpmFormatException(string message)
        : base(message)
    {
    }
}

/// <summary>Decodes TPM_RC values (TPM 2.0 Part 2, 6.6).</summary>
internal static class TpmResponseCode
{
    public const uint Success = 0x000;
    public const uint Initialize = 0x100;
    public const uint Failure = 0x101;
    public const uint CommandCode = 0x143;
    public const uint AuthMissing = 0x125;
    public const uint PcrChanged = 0x128;
    public const uint AuthUnavailable = 0x12F;
    public const uint Value = 0x084;
    public const uint Handle = 0x08B;
    public const uint AuthFail = 0x08E;
    public const uint Size = 0x095;
    public const uint Key = 0x09C;
    public const uint PolicyFail = 0x09D;
    public const uint Integrity = 0x09F;
    public const uint BadAuth = 0x0A2;
    public const uint Binding = 0x0A5;
    public const uint ObjectMemory = 0x902;
    public const uint SessionMemory = 0x903;
    public const uint ObjectHandles = 0x906;
    public const uint Yielded = 0x908;
    public const uint Canceled = 0x909;
    public const uint Testing = 0x90A;
    public const uint NvRate = 0x920;
    public const uint Lockout = 0x921;
    public const uint Retry = 0x922;

    private const uint Format1 = 0x080;

    /// <summary>Strips the handle/parameter/session number of a format-one code (Part 2, Table 16).</summary>
    public static uint BaseCode(uint rc) => (rc & Format1) != 0 ? rc & 0x0BF : rc;

    public static bool IsTransient(uint baseCode) => baseCode is Retry or Yielded or Testing or NvRate or PcrChanged;

    /// <summary>"TPM_RC_INTEGRITY, parameter 1": the name and where it applies.</summary>
    public static string Describe(uint rc)
    {
        var name = Name(BaseCode(rc));
        if ((rc & Format1) == 0)
        {
            return name;
        }

        var n = (rc >> 8) & 0xF;
        if ((rc & 0x040) != 0)
        {
            return $"{name}, parameter {n}";
        }

        if (n == 0)
        {
            return name;
        }

        return (n & 0x8) != 0 ? $"{name}, session {n & 0x7}" : $"{name}, handle {n}";
    }

    public static string Name(uint baseCode) => baseCode switch
    {
        Initialize => "TPM_RC_INITIALIZE",
        Failure => "TPM_RC_FAILURE",
        CommandCode => "TPM_RC_COMMAND_CODE",
        AuthMissing => "TPM_RC_AUTH_MISSING",
        PcrChanged => "TPM_RC_PCR_CHANGED",
        AuthUnavailable => "TPM_RC_AUTH_UNAVAILABLE",
        Value => "TPM_RC_VALUE",
        Handle => "TPM_RC_HANDLE",
        AuthFail => "TPM_RC_AUTH_FAIL",
        Size => "TPM_RC_SIZE",
        Key => "TPM_RC_KEY",
        PolicyFail => "TPM_RC_POLICY_FAIL",
        Integrity => "TPM_RC_INTEGRITY",
        BadAuth => "TPM_RC_BAD_AUTH",
        Binding => "TPM_RC_BINDING",
        ObjectMemory => "TPM_RC_OBJECT_MEMORY",
        SessionMemory => "TPM_RC_SESSION_MEMORY",
        ObjectHandles => "TPM_RC_OBJECT_HANDLES",
        Yielded => "TPM_RC_YIELDED",
        Canceled => "TPM_RC_CANCELED",
        Testing => "TPM_RC_TESTING",
        NvRate => "TPM_RC_NV_RATE",
        Lockout => "TPM_RC_LOCKOUT",
        Retry => "TPM_RC_RETRY",
        _ => "unnamed response code",
    };

    public static string Hint(uint baseCode) => baseCode switch
    {
        Lockout => "the TPM is in dictionary-attack lockout after repeated authorization failures; wait for the lockout interval to pass or reset it with the lockout authorization (tpm2_dictionarylockout --clear-lockout)",
        Retry or Yielded or Testing or NvRate => "the TPM is busy (self-test, NV write rate limit or a yielded command); try the command again shortly",
        PcrChanged => "a PCR changed while the policy session was built; start the session again",
        AuthFail or BadAuth => "the authorization value or session HMAC was wrong; repeated failures put the TPM into lockout",
        PolicyFail => "the policy session does not satisfy the object's policy; for a PCR policy, the PCR values differ from those the object was sealed against",
        Integrity or Binding => "the object blob was not made under this TPM's parent key: it comes from another TPM, the TPM was cleared, or the blob is corrupt",
        Initialize => "the TPM has not been started; send TPM2_Startup (a simulator needs power-on and startup)",
        Failure => "the TPM is in failure mode; reboot the machine, and if it persists the TPM needs service",
        CommandCode => "the TPM does not implement this command",
        ObjectMemory or ObjectHandles or SessionMemory => "the TPM has no free object or session slot; without a resource manager (/dev/tpmrm0) transient handles must be flushed",
        AuthMissing or AuthUnavailable => "the command was sent without the authorization it needs",
        Handle => "the handle does not refer to a loaded object or session",
        _ => "see TPM 2.0 Library Specification Part 2, section 6.6, for this response code",
    };
}
