var I=class{constructor(){this.offset_s=0,this.known=!1,this.mode="live",this.replay_s=0,this.rate=0,this.set_ms=0}observe(t,e){if(!Number.isFinite(t))return;let i=t-e/1e3;!this.known||Math.abs(i-this.offset_s)>5?(this.offset_s=i,this.known=!0):this.offset_s+=.2*(i-this.offset_s)}setReplay(t,e){this.mode="replay",this.replay_s=t,this.rate=e,this.set_ms=Date.now()}setLive(){this.mode="live"}now_s(){return this.mode==="replay"?this.replay_s+this.rate*(Date.now()-this.set_ms)/1e3:Date.now()/1e3+this.offset_s}};var lt=2*Math.PI*6378137,Q=1852/3600,Z=Math.PI/180,k=85.051129;function tt(c){return(c+180)/360}function et(c){let t=Math.max(-k,Math.min(k,c))*Z;return(180-180/Math.PI*Math.log(Math.tan(Math.PI/4+t/2)))/360}function st(c){let t=Math.max(Math.cos(Math.max(-k,Math.min(k,c))*Z),1e-6);return 1/(lt*t)}function it(c){return c==null||Number.isNaN(c)?"":c>=1e4?`FL${String(Math.round(c/100)).padStart(3,"0")}`:`${Math.round(c/100)*100} ft`}function ot(c,t,e,i){let a=c.createShader(t);if(c.shaderSource(a,e),c.compileShader(a),!c.getShaderParameter(a,c.COMPILE_STATUS))throw new Error(`${i} shader: ${c.getShaderInfoLog(a)}`);return a}function P(c,t,e,i){let a=c.createProgram();if(c.attachShader(a,ot(c,c.VERTEX_SHADER,t,i)),c.attachShader(a,ot(c,c.FRAGMENT_SHADER,e,i)),c.linkProgram(a),!c.getProgramParameter(a,c.LINK_STATUS))throw new Error(`${i} program: ${c.getProgramInfoLog(a)}`);return a}var d=8,Tt=1,yt=2,Ft=4,wt=8,bt=-1e5,R=20,at=5,W=Math.PI/180,U=class{constructor(t=1024){this.n=0,this.t0_s=NaN,this.selectedId=null,this.version=0,this.idToSlot=new Map,this._alloc(t)}_alloc(t){let e=(i,a,s)=>{let o=new i.constructor(s);return a&&o.set(a.subarray(0,Math.min(a.length,s))),o};this.capacity=t,this.inst=e(Float32Array.of(),this.inst,t*d),this.id=e(Float64Array.of(),this.id,t),this.lat=e(Float64Array.of(),this.lat,t),this.lon=e(Float64Array.of(),this.lon,t),this.alt=e(Float64Array.of(),this.alt,t),this.gs=e(Float64Array.of(),this.gs,t),this.trk=e(Float64Array.of(),this.trk,t),this.vr=e(Float64Array.of(),this.vr,t),this.tlast=e(Float64Array.of(),this.tlast,t),this.status=e(Int8Array.of(),this.status,t),this.callsign=this.callsign||[],this.icao24=this.icao24||[],this.mode3a=this.mode3a||[],this.sensors=this.sensors||[]}clear(){this.n=0,this.idToSlot.clear(),this.version++}slotOf(t){let e=this.idToSlot.get(t);return e===void 0?-1:e}_newSlot(t){this.n>=this.capacity&&this._alloc(this.capacity*2);let e=this.n++;return this.idToSlot.set(t,e),this.id[e]=t,this.callsign[e]="",this.icao24[e]="",this.mode3a[e]="",this.sensors[e]="",e}_removeSlot(t){let e=this.n-1;if(this.idToSlot.delete(this.id[t]),t!==e){let i=this.id[e];this.inst.copyWithin(t*d,e*d,e*d+d);for(let a of[this.id,this.lat,this.lon,this.alt,this.gs,this.trk,this.vr,this.tlast,this.status,this.callsign,this.icao24,this.mode3a,this.sensors])a[t]=a[e];this.idToSlot.set(i,t)}this.n=e}_writeInstance(t){let e=t*d,i=this.lat[t],a=st(i),s=this.inst;s[e]=tt(this.lon[t]),s[e+1]=et(i);let o=this.gs[t],n=this.trk[t],r=0;if(Number.isFinite(o)&&Number.isFinite(n)){let f=o*Q;s[e+2]=f*Math.sin(n*W)*a,s[e+3]=-f*Math.cos(n*W)*a,s[e+5]=n*W}else s[e+2]=0,s[e+3]=0,s[e+5]=0,r|=Ft;s[e+4]=this.tlast[t]-this.t0_s;let l=this.alt[t];s[e+6]=Number.isFinite(l)?l:bt;let h=this.status[t];h===2&&(r|=Tt),h===0&&(r|=wt),this.id[t]===this.selectedId&&(r|=yt),s[e+7]=r}apply(t){t.type==="snapshot"&&this.clear();let e=t.rows,i=-1/0;if(Number.isNaN(this.t0_s)){let s=t.n>0?e[7]:t.time;this.t0_s=Number.isFinite(s)?Math.floor(s):Math.floor(Date.now()/1e3)}for(let s=0;s<t.n;s++){let o=s*9,n=e[o+0],r=this.idToSlot.get(n);r===void 0&&(r=this._newSlot(n)),this.lat[r]=e[o+1],this.lon[r]=e[o+2],this.alt[r]=e[o+3],this.gs[r]=e[o+4],this.trk[r]=e[o+5],this.vr[r]=e[o+6];let l=e[o+7];Number.isFinite(l)||(l=t.time),this.tlast[r]=l,l>i&&(i=l),this.status[r]=e[o+8],this._writeInstance(r)}for(let s of t.meta){let o=this.idToSlot.get(s[0]);o!==void 0&&(this.callsign[o]=s[1],this.icao24[o]=s[2],this.mode3a[o]=s[3],this.sensors[o]=s[4])}let a=t.remove;for(let s=0;s<a.length;s++){let o=this.idToSlot.get(a[s]);o!==void 0&&this._removeSlot(o)}return this.version++,i}select(t){let e=this.slotOf(this.selectedId);this.selectedId=t,e>=0&&this._writeInstance(e);let i=this.slotOf(t);i>=0&&this._writeInstance(i),this.version++}xAt(t,e){let i=t*d;return this.inst[i]+this.inst[i+2]*this._dt(i,e)}yAt(t,e){let i=t*d;return this.inst[i+1]+this.inst[i+3]*this._dt(i,e)}_dt(t,e){return Math.min(Math.max(e-this.inst[t+4],0),R)}pick(t,e,i,a){let s=-1,o=a*a;for(let n=0;n<this.n;n++){let r=this.xAt(n,i)-t,l=this.yAt(n,i)-e,h=r*r+l*l;h<o&&(o=h,s=n)}return s}};var F=32,S=126,M=32,L=16,v=20,gt=11,B=13,N=9,x=64,z=`600 ${gt}px "Noto Sans"`,Et=`#version 300 es
precision highp float;
layout(location = 0) in vec2 a_corner;          // 0..1
layout(location = 1) in vec4 a_pos_vel;
layout(location = 2) in vec4 a_misc;            // t_ref, offset_x, offset_y, cell
layout(location = 3) in float a_width;
uniform mat4 u_matrix;
uniform float u_now;
uniform vec2 u_px_to_clip;
uniform vec2 u_atlas_cells;                     // columns, rows
out vec2 v_uv;
void main() {
  float dt = clamp(u_now - a_misc.x, 0.0, ${R.toFixed(1)});
  vec4 c = u_matrix * vec4(a_pos_vel.xy + a_pos_vel.zw * dt, 0.0, 1.0);
  vec2 viewport = 2.0 / u_px_to_clip;                       // W, H in px
  c.xy = (floor((c.xy / c.w * 0.5 + 0.5) * viewport + 0.5) / viewport * 2.0 - 1.0) * c.w;
  vec2 size = vec2(a_width, ${v.toFixed(1)});
  vec2 px = vec2(a_misc.y, a_misc.z) + a_corner * size;     // screen px, y down
  c.xy += vec2(px.x, -px.y) * u_px_to_clip * c.w;
  gl_Position = c;
  float col = mod(a_misc.w, u_atlas_cells.x);
  float row = floor(a_misc.w / u_atlas_cells.x);
  v_uv = (vec2(col, row) * vec2(${L.toFixed(1)}, ${v.toFixed(1)})
          + a_corner * size) / (u_atlas_cells * vec2(${L.toFixed(1)}, ${v.toFixed(1)}));
}`,Rt=`#version 300 es
precision mediump float;
uniform sampler2D u_atlas;
in vec2 v_uv;
out vec4 o_color;
void main() {
  vec2 g = texture(u_atlas, v_uv).rg;                      // glyph, halo
  float a = max(g.r, g.g * 0.9);
  if (a < 0.02) discard;
  vec3 text = vec3(0.91, 0.93, 0.95);
  vec3 halo = vec3(0.05, 0.11, 0.16);
  vec3 col = mix(halo, text, g.r / max(a, 1e-3));
  o_color = vec4(col * a, a);                              // premultiplied alpha
}`,O=class{constructor(t){this.gl=t;let e=P(t,Et,Rt,"label");this.prog=e,this.u={};for(let s of["u_matrix","u_now","u_px_to_clip","u_atlas_cells","u_atlas"])this.u[s]=t.getUniformLocation(e,s);this.vao=t.createVertexArray(),t.bindVertexArray(this.vao);let i=t.createBuffer();t.bindBuffer(t.ARRAY_BUFFER,i),t.bufferData(t.ARRAY_BUFFER,new Float32Array([0,0,1,0,1,1,0,0,1,1,0,1]),t.STATIC_DRAW),t.enableVertexAttribArray(0),t.vertexAttribPointer(0,2,t.FLOAT,!1,8,0),this.buf=t.createBuffer(),t.bindBuffer(t.ARRAY_BUFFER,this.buf);let a=N*4;for(let[s,o,n]of[[1,4,0],[2,4,16],[3,1,32]])t.enableVertexAttribArray(s),t.vertexAttribPointer(s,o,t.FLOAT,!1,a,n),t.vertexAttribDivisor(s,1);t.bindVertexArray(null),this.data=new Float32Array(N*4096),this.capacity=0,this.n=0,this.labels=0,this.tex=null,this.advance=new Float32Array(S+1),this.rows=Math.ceil((S-F+1)/M),this.grid=new Map}buildAtlas(){let t=M*L,e=this.rows*v,i=r=>{let h=new OffscreenCanvas(t,e).getContext("2d",{willReadFrequently:!0});h.font=z,h.textBaseline="middle",h.lineJoin="round",h.lineWidth=3,h.fillStyle="#fff",h.strokeStyle="#fff";for(let f=F;f<=S;f++){let m=f-F,p=m%M*L+2,E=Math.floor(m/M)*v+v/2,y=String.fromCharCode(f);r&&h.strokeText(y,p,E),h.fillText(y,p,E),this.advance[f]=h.measureText(y).width}return h.getImageData(0,0,t,e).data},a=i(!1),s=i(!0),o=new Uint8Array(t*e*4);for(let r=0;r<t*e;r++)o[r*4]=a[r*4+3],o[r*4+1]=s[r*4+3],o[r*4+3]=255;let n=this.gl;this.tex=n.createTexture(),n.bindTexture(n.TEXTURE_2D,this.tex),n.texImage2D(n.TEXTURE_2D,0,n.RGBA8,t,e,0,n.RGBA,n.UNSIGNED_BYTE,o),n.texParameteri(n.TEXTURE_2D,n.TEXTURE_MIN_FILTER,n.NEAREST),n.texParameteri(n.TEXTURE_2D,n.TEXTURE_MAG_FILTER,n.NEAREST),n.texParameteri(n.TEXTURE_2D,n.TEXTURE_WRAP_S,n.CLAMP_TO_EDGE),n.texParameteri(n.TEXTURE_2D,n.TEXTURE_WRAP_T,n.CLAMP_TO_EDGE)}_textWidth(t){let e=0;for(let i=0;i<t.length;i++){let a=t.charCodeAt(i);e+=a>=F&&a<=S?this.advance[a]:this.advance[63]}return e}_free(t,e,i,a){for(let s=Math.floor(t/x);s<=Math.floor(i/x);s++)for(let o=Math.floor(e/x);o<=Math.floor(a/x);o++){let n=this.grid.get(s*65536+o);if(n){for(let r=0;r<n.length;r+=4)if(t<n[r+2]&&i>n[r]&&e<n[r+3]&&a>n[r+1])return!1}}return!0}_take(t,e,i,a){for(let s=Math.floor(t/x);s<=Math.floor(i/x);s++)for(let o=Math.floor(e/x);o<=Math.floor(a/x);o++){let n=s*65536+o,r=this.grid.get(n);r||this.grid.set(n,r=[]),r.push(t,e,i,a)}}_glyphs(t,e,i,a,s){let o=a;for(let n=0;n<i.length;n++){let r=i.charCodeAt(n);(r<F||r>S)&&(r=63),this.n+1>this.data.length/N&&this._grow();let l=this.data,h=this.n*N;l[h]=e[t],l[h+1]=e[t+1],l[h+2]=e[t+2],l[h+3]=e[t+3],l[h+4]=e[t+4],l[h+5]=Math.round(o)-2,l[h+6]=s-v/2,l[h+7]=r-F,l[h+8]=L,this.n++,o+=this.advance[r]}}_grow(){let t=new Float32Array(this.data.length*2);t.set(this.data),this.data=t}layout(t,e,i,a,s,o,n=-1){if(!this.tex)return 0;this.grid.clear(),this.n=0;let r=0,l=t.inst;for(let f=0;f<i;f++){let m=e[3*f+1],p=e[3*f+2];this._take(m-o,p-o,m+o,p+o)}for(let f=0;f<i&&r<s;f++){let m=e[3*f],p=e[3*f+1],E=e[3*f+2],[y,X]=a(m),ht=Math.max(this._textWidth(y),this._textWidth(X)),D=o+4,Y=p+D-1,K=E-B,q=p+D+ht+1,j=E+B;if(m!==n&&!this._free(Y,K,q,j))continue;this._take(Y,K,q,j);let J=m*8;this._glyphs(J,l,y,D,-B/2),X&&this._glyphs(J,l,X,D,B/2),r++}let h=this.gl;return h.bindBuffer(h.ARRAY_BUFFER,this.buf),this.data.length>this.capacity&&(h.bufferData(h.ARRAY_BUFFER,this.data.byteLength,h.DYNAMIC_DRAW),this.capacity=this.data.length),this.n&&h.bufferSubData(h.ARRAY_BUFFER,0,this.data,0,this.n*N),this.labels=r,r}draw(t,e,i,a){if(this.n===0||!this.tex)return;let s=this.gl;s.useProgram(this.prog),s.uniformMatrix4fv(this.u.u_matrix,!1,t),s.uniform1f(this.u.u_now,e),s.uniform2f(this.u.u_px_to_clip,2/i,2/a),s.uniform2f(this.u.u_atlas_cells,M,this.rows),s.activeTexture(s.TEXTURE0),s.bindTexture(s.TEXTURE_2D,this.tex),s.uniform1i(this.u.u_atlas,0),s.bindVertexArray(this.vao),s.enable(s.BLEND),s.blendFunc(s.ONE,s.ONE_MINUS_SRC_ALPHA),s.drawArraysInstanced(s.TRIANGLES,0,6,this.n),s.bindVertexArray(null)}};var T=[[0,[1,.55,.1]],[5e3,[1,.85,.1]],[1e4,[.55,.9,.2]],[2e4,[.15,.85,.55]],[3e4,[.2,.6,1]],[4e4,[.8,.4,1]]],St=[.72,.72,.72];function Mt(){let c=e=>e.toFixed(3),t=`vec3 altColor(float a) {
  if (a < -9999.0) return vec3(${St.map(c)});
`;t+=`  if (a <= ${c(T[0][0])}) return vec3(${T[0][1].map(c)});
`;for(let e=1;e<T.length;e++){let[i,a]=T[e-1],[s,o]=T[e];t+=`  if (a < ${c(s)}) return mix(vec3(${a.map(c)}), vec3(${o.map(c)}), (a - ${c(i)}) / ${c(s-i)});
`}return`${t}  return vec3(${T[T.length-1][1].map(c)});
}
`}var Nt=`#version 300 es
precision highp float;
layout(location = 0) in vec2 a_corner;
layout(location = 1) in vec4 a_pos_vel;
layout(location = 2) in vec4 a_misc;        // t_ref, heading, alt_ft, flags
uniform mat4 u_matrix;
uniform float u_now;
uniform vec2 u_px_to_clip;
uniform float u_size_px;
out vec2 v_uv;
out vec3 v_color;
out float v_alpha;
flat out int v_flags;
${Mt()}
void main() {
  float age = u_now - a_misc.x;
  float dt = clamp(age, 0.0, ${R.toFixed(1)});
  vec2 p = a_pos_vel.xy + a_pos_vel.zw * dt;
  vec4 c = u_matrix * vec4(p, 0.0, 1.0);
  int flags = int(a_misc.w + 0.5);
  float size = u_size_px * (((flags & 2) != 0) ? 1.5 : 1.0);
  float h = a_misc.y;
  float sh = sin(h);
  float ch = cos(h);
  vec2 r = vec2(a_corner.x * ch + a_corner.y * sh, -a_corner.x * sh + a_corner.y * ch);
  c.xy += r * size * u_px_to_clip * c.w;
  gl_Position = c;
  v_uv = a_corner;
  v_color = altColor(a_misc.z);
  v_alpha = age > ${at.toFixed(1)} ? 0.45 : 1.0;
  v_flags = flags;
}`,Lt=`#version 300 es
precision mediump float;
in vec2 v_uv;
in vec3 v_color;
in float v_alpha;
flat in int v_flags;
out vec4 o_color;
// Signed distance (positive inside) to the line through a and b, inside on the left.
float edge(vec2 p, vec2 a, vec2 b) {
  vec2 d = normalize(b - a);
  vec2 q = p - a;
  return d.x * q.y - d.y * q.x;
}
void main() {
  vec2 p = v_uv;
  float d;
  if ((v_flags & 4) != 0) {
    d = 0.45 - length(p);                                   // no heading: a dot
  } else {
    vec2 nose = vec2(0.0, 1.0);
    vec2 left = vec2(-0.8, -0.85);
    vec2 right = vec2(0.8, -0.85);
    vec2 notch = vec2(0.0, -0.35);
    float body = min(min(edge(p, left, right), edge(p, right, nose)), edge(p, nose, left));
    // Above the roof left-notch-right (a union of two half-planes): the notch cut out.
    float cut = max(edge(p, left, notch), edge(p, notch, right));
    d = min(body, cut);
  }
  if (d < 0.0) discard;
  vec3 col = v_color;
  float a = v_alpha;
  if (d < 0.12) {
    col = vec3(0.05);                                       // dark outline for contrast
  } else if ((v_flags & 1) != 0 && d > 0.24) {
    discard;                                                // coasting: hollow
  }
  if ((v_flags & 2) != 0 && d < 0.12) col = vec3(1.0);      // selected: white outline
  o_color = vec4(col * a, a);                               // premultiplied alpha
}`,C=class{constructor(t){this.gl=t;let e=P(t,Nt,Lt,"aircraft");this.prog=e,this.u={};for(let a of["u_matrix","u_now","u_px_to_clip","u_size_px"])this.u[a]=t.getUniformLocation(e,a);this.vao=t.createVertexArray(),t.bindVertexArray(this.vao);let i=new Float32Array([-1,-1,1,-1,1,1,-1,-1,1,1,-1,1]);this.cornerBuf=t.createBuffer(),t.bindBuffer(t.ARRAY_BUFFER,this.cornerBuf),t.bufferData(t.ARRAY_BUFFER,i,t.STATIC_DRAW),t.enableVertexAttribArray(0),t.vertexAttribPointer(0,2,t.FLOAT,!1,8,0),this.instBuf=t.createBuffer(),this.instCapacity=0,t.bindBuffer(t.ARRAY_BUFFER,this.instBuf),t.enableVertexAttribArray(1),t.vertexAttribPointer(1,4,t.FLOAT,!1,d*4,0),t.vertexAttribDivisor(1,1),t.enableVertexAttribArray(2),t.vertexAttribPointer(2,4,t.FLOAT,!1,d*4,16),t.vertexAttribDivisor(2,1),t.bindVertexArray(null),this.n=0}upload(t,e){let i=this.gl;i.bindBuffer(i.ARRAY_BUFFER,this.instBuf),t.length>this.instCapacity&&(i.bufferData(i.ARRAY_BUFFER,t.byteLength,i.DYNAMIC_DRAW),this.instCapacity=t.length),e>0&&i.bufferSubData(i.ARRAY_BUFFER,0,t,0,e*d),this.n=e}draw(t,e,i,a,s){if(this.n===0)return;let o=this.gl;o.useProgram(this.prog),o.uniformMatrix4fv(this.u.u_matrix,!1,t),o.uniform1f(this.u.u_now,e),o.uniform2f(this.u.u_px_to_clip,2/i,2/a),o.uniform1f(this.u.u_size_px,s),o.bindVertexArray(this.vao),o.enable(o.BLEND),o.blendFunc(o.ONE,o.ONE_MINUS_SRC_ALPHA),o.disable(o.DEPTH_TEST),o.drawArraysInstanced(o.TRIANGLES,0,6,this.n),o.bindVertexArray(null)}};var $=class{constructor(t,e,i,a){this.canvas=t,this.store=e,this.clock=i,this.halfSize_px=a;let s=t.getContext("webgl2",{alpha:!0,premultipliedAlpha:!0,antialias:!1,depth:!1,stencil:!1});if(!s)throw new Error("WebGL2 is not available for the aircraft overlay");this.gl=s,this.renderer=new C(s),this.labels=new O(s),this.matrix=new Float32Array(16),this.matrix[10]=1,this.matrix[15]=1,this.camera={cx:.5,cy:.5,zoom:0,W:1,H:1,dpr:1},this.uploaded=-1,this.dirty=!0,this.afterDraw=[],this.frames=0}setCamera(t){let e=t.W!==this.camera.W||t.H!==this.camera.H||t.dpr!==this.camera.dpr;this.camera=t,e&&(this.canvas.width=Math.max(1,Math.round(t.W*t.dpr)),this.canvas.height=Math.max(1,Math.round(t.H*t.dpr))),this.dirty=!0}toScreen(t,e){let{cx:i,cy:a,zoom:s,W:o,H:n}=this.camera,r=512*2**s;return[(t-i)*r+o/2,(e-a)*r+n/2]}onceDrawn(t){this.afterDraw.push(t)}frame(){let{gl:t,store:e}=this;if(e.version!==this.uploaded&&(this.renderer.upload(e.inst,e.n),this.uploaded=e.version,this.dirty=!0),e.n===0&&!this.dirty&&this.afterDraw.length===0)return;let{cx:i,cy:a,zoom:s,W:o,H:n}=this.camera,r=512*2**s,l=this.matrix;l[0]=2*r/o,l[5]=-2*r/n,l[12]=-2*r*i/o,l[13]=2*r*a/n,t.viewport(0,0,t.drawingBufferWidth,t.drawingBufferHeight),t.clearColor(0,0,0,0),t.clear(t.COLOR_BUFFER_BIT);let h=this.clock.now_s()-e.t0_s;if(this.labels.draw(l,h,o,n),this.renderer.draw(l,h,o,n,this.halfSize_px),this.dirty=!1,this.frames++,this.afterDraw.length){let f=this.afterDraw;this.afterDraw=[];for(let m of f)m(t)}}};var _=new U,b=new I,u=null,H=[],g=null,nt=0,A=!0,V=1/0;function Dt(c){return c<5?100:c<7?250:500}var w=new Float64Array(3*1024);function It(){if(!u)return;let{W:c,H:t,zoom:e}=u.camera,i=b.now_s()-_.t0_s;w.length<3*(_.n+1)&&(w=new Float64Array(3*(_.n+1)));let a=0,s=r=>{let[l,h]=u.toScreen(_.xAt(r,i),_.yAt(r,i));l<-50||l>c+10||h<-20||h>t+20||(w[3*a]=r,w[3*a+1]=l,w[3*a+2]=h,a++)},o=_.slotOf(_.selectedId);o>=0&&s(o);for(let r=0;r<_.n;r++)r!==o&&s(r);let n=u.labels.layout(_,w,a,r=>[_.callsign[r]||_.icao24[r]||`#${_.id[r]}`,it(_.alt[r])],Math.min(Dt(e),V),u.halfSize_px,o);u.dirty=!0,self.postMessage({kind:"labels",n})}var G=null;function ct(c){requestAnimationFrame(ct),g&&G!==null&&g.push(c-G),G=c;let t=Date.now();u.labels.tex&&(A||t-nt>1e3)&&(A=!1,nt=t,It()),u.frame()}async function kt(c){try{u=new $(c.canvas,_,b,c.halfSize)}catch(t){self.postMessage({kind:"error",message:String(t&&t.message?t.message:t)});return}Number.isFinite(c.maxLabels)&&(V=c.maxLabels),requestAnimationFrame(ct);try{let t=new FontFace("Noto Sans",`url("${c.fontUrl}")`,{weight:"600"});self.fonts.add(t),await t.load(),await self.fonts.load(z)}catch{}u.labels.buildAtlas(),A=!0}self.onmessage=c=>{let t=c.data;if(t)switch(t.cmd){case"init":kt(t);break;case"camera":u&&u.setCamera(t),t.settled&&(A=!0);break;case"batch":if(b.mode==="live"){let e=_.apply(t.batch);b.observe(t.batch.time,t.batch.recv_ms),g&&Number.isFinite(e)&&H.push(Date.now()/1e3-e)}break;case"labels":V=t.max,A=!0;break;case"select":_.select(t.id),A=!0;break;case"replay":b.setReplay(t.replay_s,t.rate),_.apply(t.batch),A=!0;break;case"live":b.setLive(),_.apply(t.batch),A=!0;break;case"bench":t.on?(g=[],G=null,H.length=0):(self.postMessage({kind:"bench",deltas:g||[],latencies_s:H.slice(),frames:u?u.frames:0}),g=null);break;case"probe":if(!u)break;u.onceDrawn(e=>{let i=e.drawingBufferWidth,a=e.drawingBufferHeight,s=new Uint8Array(i*a*4);e.readPixels(0,0,i,a,e.RGBA,e.UNSIGNED_BYTE,s),self.postMessage({kind:"probe",id:t.id,w:i,h:a,pixels:s},[s.buffer])});break;default:break}};export{Dt as labelLimit};
