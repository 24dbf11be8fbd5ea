// The widgets' own stylesheet. `:host` declarations marked !important win over the
// page's own !important rules (the inner context wins for important declarations),
// so a site rule like `div { display: none !important }` cannot hide or transform the host.
export const CSS = `
:host{all:initial!important;display:block!important;position:static!important}
*{box-sizing:border-box;margin:0}
.top,.backdrop,.tip,.survey{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2130;text-align:left}
button,input,textarea{font:inherit;color:inherit}
[hidden]{display:none!important}
.top{position:absolute;top:0;left:0;right:0;z-index:2147483646}
.banner{position:relative;display:flex;flex-wrap:wrap;align-items:center;gap:4px 16px;padding:10px 48px 10px 16px;background:#eef0fe;border-bottom:1px solid #c7ccf6}
.backdrop{position:fixed;top:0;left:0;right:0;bottom:0;z-index:2147483647;display:flex;align-items:center;justify-content:center;padding:16px;background:rgba(17,20,33,.5)}
.modal,.tip,.survey{background:#fff;border:1px solid #d6d9e4;border-radius:10px;box-shadow:0 12px 40px rgba(17,20,33,.25)}
.modal{position:relative;width:100%;max-width:440px;max-height:100%;overflow:auto;padding:24px}
.tip{position:fixed;z-index:2147483646;max-width:300px;padding:12px 40px 12px 14px}
.survey{position:fixed;right:16px;bottom:16px;z-index:2147483645;width:340px;max-width:calc(100vw - 32px);max-height:calc(100vh - 32px);overflow:auto;padding:16px 16px 14px}
.title{display:block;font-weight:600}
h2.title{font-size:18px;margin:0 24px 8px 0}
.body,.intro,.thanks{white-space:pre-line}
.intro{margin:0 24px 12px 0}
.actions{display:flex;align-items:center;justify-content:flex-end;gap:8px;margin-top:12px}
.banner .actions{margin:0}
.btn{display:inline-block;padding:7px 14px;border:0;border-radius:6px;background:#4338ca;color:#fff;font-weight:600;text-decoration:none;cursor:pointer}
.x{position:absolute;top:6px;right:6px;width:30px;height:30px;border:0;border-radius:6px;background:none;font-size:20px;line-height:1;text-align:center;color:#555b6e;cursor:pointer}
.x:hover{background:#eceef3}
:focus-visible,input:focus-visible+label{outline:2px solid #4338ca;outline-offset:2px}
fieldset{border:0;padding:0;min-width:0}
legend{padding:0 24px 0 0;margin-bottom:8px;font-weight:600}
.opt{display:flex;gap:8px;align-items:center;padding:3px 0}
.scale{display:flex;gap:3px}
.scale label{flex:1;min-width:0;padding:6px 0;border:1px solid #c9cdd9;border-radius:5px;text-align:center;cursor:pointer}
.scale input:checked+label{background:#4338ca;border-color:#4338ca;color:#fff}
.stars label,.stars input:checked+label{flex:0 0 auto;padding:0 2px;border:0;background:none;font-size:26px;line-height:1;color:#b9bdca}
.stars input+label.on{color:#d97706}
.ends{display:flex;justify-content:space-between;margin-top:4px;font-size:12px;color:#555b6e}
textarea{display:block;width:100%;padding:8px;border:1px solid #c9cdd9;border-radius:6px;resize:vertical}
.step{margin-right:auto;font-size:12px;color:#555b6e}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
